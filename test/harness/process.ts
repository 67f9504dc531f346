import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export interface SluiceProcess {
  child: ChildProcess;
  /** Last lines of its output, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * `sluice <args>` from source in its own Node process (no tsx wrapper process, so a
 * SIGKILL hits Sluice itself).
 */
export function startSluice(args: string[], env: Record<string, string>): SluiceProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts'), ...args],
    {
      cwd: packageRoot,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/** Waits for a log line (JSON msg) from the process. */
export async function waitForLog(p: SluiceProcess, msg: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.output().includes(`"msg":"${msg}"`)) {
    if (p.child.exitCode !== null)
      throw new Error(`process exited before logging '${msg}':\n${p.output()}`);
    if (Date.now() > deadline)
      throw new Error(`no '${msg}' within ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
