import { Worker } from 'node:worker_threads';

/**
 * The most a /healthz answer may take while a test loads the process. The tests guard
 * against blocking the event loop (a 30 s freeze, a parse that never yields), not against
 * a busy machine: a loaded 2-core machine showed 170 ms, and up to 3.9 s when three test
 * files and the type checker shared its two cores. The bound sits above both, and a
 * freeze still fails: the probe gives up after PROBE_TIMEOUT_MS and counts a failure. The
 * figure each test saw is printed; tight figures belong in bench/.
 */
export const HEALTHZ_BOUND_MS = 10_000;
const PROBE_TIMEOUT_MS = 20_000;

/**
 * /healthz probed every 100 ms from a thread of its own, so the test's own work cannot
 * delay the probe; stop() returns every latency in ms (1e9 for a failure or timeout).
 */
export function healthProbe(url: string): { stop: () => Promise<number[]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const times = [];
     let stop = false;
     parentPort.on('message', () => { stop = true; });
     (async () => {
       while (!stop) {
         const t0 = performance.now();
         try { const r = await fetch(workerData, { signal: AbortSignal.timeout(${PROBE_TIMEOUT_MS}) }); await r.text();
               times.push(r.ok ? performance.now() - t0 : 1e9); }
         catch { times.push(1e9); }
         if (times.at(-1) > 1000) console.log('slow /healthz', Date.now(), times.at(-1));
         await new Promise((r) => setTimeout(r, 100));
       }
       parentPort.postMessage(times);
     })();`,
    { eval: true, workerData: url },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (times: number[]) => {
          void worker.terminate();
          resolve(times);
        });
        worker.postMessage('stop');
      }),
  };
}
