import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { packageRoot } from '../../src/paths.js';

/**
 * How a test starts `sluice`: Node on the sources global-setup transpiled once
 * (`build.ts`), or through tsx from src/ where there is no such build or
 * SLUICE_TEST_FROM_SOURCE=1 asks for it.
 */
export function sluiceCommand(): string[] {
  const built = process.env.SLUICE_TEST_FROM_SOURCE === '1' ? undefined : inject('sluiceEntry');
  return built ? [built] : ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts')];
}

export interface SluiceProcess {
  child: ChildProcess;
  /** Last lines of its output, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<number | string>;
  /**
   * Sends the signal and waits for the exit. A process that has not exited after 60 s
   * is killed (SIGKILL) and the call fails with its last output: a stop that hangs is a
   * defect, not something to wait out.
   */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * `sluice <args>` in its own Node process (no wrapper process, so a SIGKILL hits Sluice
 * itself).
 */
export function startSluice(args: string[], env: Record<string, string>): SluiceProcess {
  const child = spawn(process.execPath, [...sluiceCommand(), ...args], {
    cwd: packageRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-200_000);
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
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 60_000)));
      const r = await Promise.race([exited, hung]);
      clearTimeout(timer);
      if (r !== 'hung') return r;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`the process did not exit on ${signal} within 60 s:\n${out.slice(-6000)}`);
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
