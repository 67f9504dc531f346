import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../paths.js';
import { startPostgres, type PostgresHandle } from '../../test/harness/servers.js';

const run = promisify(execFile);

/**
 * postgres.js 3.4.9 writes small messages from a setImmediate; when PostgreSQL dies
 * between the scheduling and the write, the write dereferences a dropped socket and
 * throws where no try/catch reaches, ending the process (porsager/postgres#1066,
 * #1154, #1208). patches/postgres+3.4.9.patch settles the waiting queries instead.
 * Unpatched, this script dies with "Cannot read properties of null (reading 'write')"
 * on its first crash of the server; patched, every transaction settles and it exits 0.
 * A second patch: each new connection fetches the array types with a query nothing
 * awaits; a crash during it was an unhandled rejection (ECONNREFUSED) that ended the
 * process in about one run in three here. It now settles the waiting queries too.
 */
const script = `
import postgres from 'postgres';
import { execFileSync } from 'node:child_process';
const [url, name] = process.argv.slice(1);
const sql = postgres(url, { max: 8, onnotice: () => {} });
let ok = 0, failed = 0, stop = false;
const workers = Array.from({ length: 32 }, async () => {
  while (!stop) {
    try {
      await sql.begin(async (tx) => { for (let i = 0; i < 5; i++) await tx\`SELECT \${i}::int\`; });
      ok++;
    } catch { failed++; await new Promise((r) => setTimeout(r, 10)); }
  }
});
for (let round = 0; round < 3; round++) {
  await new Promise((r) => setTimeout(r, 300));
  execFileSync('infra/local/pg', ['stop', name, 'immediate']);
  await new Promise((r) => setTimeout(r, 500));
  execFileSync('infra/local/pg', ['start', name]);
}
// Works again: a transaction commits after the last restart (waited for, not slept on).
const before = ok;
const deadline = Date.now() + 30_000;
while (ok === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
stop = true;
await Promise.all(workers);
console.log(JSON.stringify({ ok, failed, afterRestart: ok - before }));
// Closing is not what is tested: a connection still dialling may refuse to end cleanly.
await sql.end({ timeout: 1 }).catch(() => {});
`;

describe('the database driver survives the database', () => {
  let pg: PostgresHandle;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.dispose();
  });

  it('settles transactions in flight when PostgreSQL crashes, and works again after', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, pg.url, pg.name],
      { cwd: packageRoot, timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      ok: number;
      failed: number;
      afterRestart: number;
    };
    expect(result.failed).toBeGreaterThan(0); // the crashes hit transactions in flight
    expect(result.afterRestart).toBeGreaterThan(0); // and the pool works again
  }, 90_000);
});
