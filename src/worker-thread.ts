import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

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
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData, ...limits });
}
