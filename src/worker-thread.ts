import { extname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { packageRoot } from './paths.js';

let builtSrc: string | undefined;

/**
 * Worker threads of a process running from source start from `dir` instead: a folder
 * holding src/ transpiled to JavaScript, file for file (the test harness's build,
 * `test/harness/build.ts`). Such a worker loads no TypeScript, which through tsx costs
 * each new worker 1–2 s of CPU. Only this process: its children are not affected.
 */
export function startWorkersFrom(dir: string | undefined): void {
  builtSrc = dir;
}

/**
 * Starts a worker thread on a module beside the caller (`entry` without extension,
 * relative to `from`, the caller's import.meta.url). Built, it is plain JavaScript.
 * From source it is TypeScript, and Node 20 does not carry loader hooks into workers,
 * so a one-line bootstrap registers tsx in the worker before importing it.
 */
export function startWorker(
  from: string,
  entry: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const limits = resourceLimits === undefined ? {} : { resourceLimits };
  const ext = extname(fileURLToPath(from));
  const url = new URL(`${entry}${ext}`, from);
  if (ext !== '.ts') return new Worker(url, { workerData, ...limits });
  if (builtSrc !== undefined) {
    const path = relative(join(packageRoot, 'src'), fileURLToPath(url));
    return new Worker(pathToFileURL(join(builtSrc, path.replace(/\.ts$/, '.js'))), {
      workerData,
      ...limits,
    });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData, ...limits });
}
