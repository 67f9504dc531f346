import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { randomToken } from './names.js';
import { infra } from './shell.js';

/** A TCP port nothing listens on right now, asked from the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * n distinct free TCP ports: every socket is held open until all are chosen, so the
 * kernel cannot hand the same port out twice (as n calls of freePort() may).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** Stops gracefully (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
  /** Starts again on the same port with the same store. */
  start(): Promise<void>;
  /** Stops and removes the store directory. */
  dispose(): Promise<void>;
  /** The last lines the server logged since it last started (for a failure's message). */
  logTail(lines?: number): string;
}

export interface NatsServerOptions {
  /** Extra command-line arguments (cluster routes, limits). */
  args?: string[];
  port?: number;
  /** Server name (unique inside a cluster). */
  name?: string;
}

/** A private nats-server with JetStream on a free port and a temporary store. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = inject('natsServerBin');
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const name = options.name ?? `test-${randomToken(6)}`;
  let child: ChildProcess | undefined;
  // The running child's stderr: a killed child's last lines may arrive after the next
  // start(), and must not be taken for the new one's.
  let stderrOf: () => string = () => '';

  const exited = (): Promise<void> =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });

  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        bin,
        [
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-sd',
          dir,
          '-n',
          name,
          ...(options.args ?? []),
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-16_000);
      });
      stderrOf = () => stderr;
      // A server that exits (a port taken, a bad flag) fails the start at once, with its
      // stderr, not after waitForPort's deadline.
      const exitedEarly = new Promise<never>((_, reject) =>
        child!.once('exit', (code, signal) =>
          reject(new Error(`nats-server exited with ${code ?? signal}`)),
        ),
      );
      try {
        await Promise.race([waitForPort(port), exitedEarly]);
      } catch (err) {
        // Not left running (a server slow to open its port would outlive the test).
        child.kill('SIGKILL');
        await exited();
        throw new Error(`nats-server did not start: ${handle.logTail()}`, { cause: err });
      }
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited();
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited();
    },
    async dispose() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logTail(lines = 30) {
      return stderrOf().split('\n').filter(Boolean).slice(-lines).join('\n');
    },
  };
  try {
    await handle.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return handle;
}

export interface PostgresHandle {
  /** The cluster's name for infra/local/pg. */
  name: string;
  /** URL of the cluster's `postgres` database. */
  url: string;
  /** fast: clean shutdown; immediate: a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes the cluster. */
  dispose(): Promise<void>;
}

/**
 * A private PostgreSQL 17 + pgvector cluster (infra/local/pg) that a test may stop and
 * restart without disturbing the shared server other test files use.
 */
export async function startPostgres(): Promise<PostgresHandle> {
  const name = `test-${randomToken(8)}`;
  const url = (await infra('pg', ['create', name])).trim();
  return {
    name,
    url,
    stop: async (mode = 'fast') => void (await infra('pg', ['stop', name, mode])),
    start: async () => void (await infra('pg', ['start', name])),
    dispose: async () => void (await infra('pg', ['drop', name])),
  };
}
