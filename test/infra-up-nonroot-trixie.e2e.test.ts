import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

const isRoot = process.getuid?.() === 0;
const hasDebootstrap = spawnSync('sh', ['-c', 'command -v debootstrap']).status === 0;
const CACHE =
  process.env.SLUICE_CACHE_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sluice');
/** A pristine Debian trixie minbase, made once and copied for each run. */
const MINBASE = join(CACHE, 'trixie-minbase');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/**
 * The non-root path where it is possible: an ordinary user, without PostgreSQL, on a host
 * whose glibc runs trixie's binaries. Such a host is made here as a fresh trixie root
 * (glibc 2.41); inside it a user with an empty cache runs infra/local/up, which must
 * unpack PostgreSQL 17 + pgvector without root and start it. Needs root (to build and
 * enter the root) and the Debian archive.
 */
describe.runIf(isRoot && hasDebootstrap)('infra/local/up as an ordinary user on Debian 13', () => {
  let root: string;
  // Bounds against a hang, not a slow machine: the cold fetch takes about a minute idle
  // and went past 240 s with the suite and other work on two cores.
  const inRoot = (script: string, timeout = 600_000) =>
    // A newcomer's own environment: none of the servers this test run was given.
    spawnSync(
      'chroot',
      [
        root,
        'runuser',
        '-u',
        'newcomer',
        '--',
        'env',
        '-i',
        'HOME=/home/newcomer',
        'PATH=/usr/local/bin:/usr/bin:/bin',
        'bash',
        '-c',
        script,
      ],
      { timeout },
    );

  beforeAll(() => {
    if (!existsSync(join(MINBASE, 'usr/bin/apt-get'))) {
      rmSync(`${MINBASE}.tmp`, { recursive: true, force: true });
      sh('debootstrap', [
        '--variant=minbase',
        'trixie',
        `${MINBASE}.tmp`,
        'http://deb.debian.org/debian',
      ]);
      renameSync(`${MINBASE}.tmp`, MINBASE);
    }
    root = mkdtempSync(join(tmpdir(), 'sluice-trixie-'));
    sh('cp', ['-a', `${MINBASE}/.`, root]); // device nodes too
    sh('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    sh('mount', ['-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs', join(root, 'dev/shm')]);
    cpSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
    sh('chroot', [root, 'useradd', '-m', '-s', '/bin/bash', 'newcomer']);
    cpSync(join(packageRoot, 'infra/local'), join(root, 'home/newcomer/sluice/infra/local'), {
      recursive: true,
    });
    cpSync(inject('natsServerBin'), join(root, 'usr/local/bin/nats-server'));
    sh('chroot', [root, 'chown', '-R', 'newcomer:newcomer', '/home/newcomer']);
  }, 300_000);

  afterAll(() => {
    if (!root) return;
    inRoot('cd ~/sluice && infra/local/down', 60_000);
    spawnSync('umount', [join(root, 'dev/shm')]);
    spawnSync('umount', [join(root, 'proc')]);
    rmSync(root, { recursive: true, force: true });
  });

  it('unpacks PostgreSQL 17 + pgvector under the cache and runs it as the user', async () => {
    writeFileSync(
      join(root, 'home/newcomer/check.sql'),
      "CREATE EXTENSION vector; SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector < 0.01 AS near;\n",
    );
    // Ports the host's own servers do not use (the root shares the host's network).
    const env = `SLUICE_NATS_PORT=${await freePort()} SLUICE_PG_PORT=${await freePort()}`;
    const started = performance.now();
    const cold = inRoot(`cd ~/sluice && ${env} infra/local/up`);
    const coldS = (performance.now() - started) / 1000;
    const stderr = cold.stderr.toString();
    expect(cold.status, stderr).toBe(0);
    expect(stderr).toMatch(
      /postgres: postgres \(PostgreSQL\) 17\.\d+ .* unpacked \(\d+ packages\)/,
    );
    expect(stderr).toMatch(/postgres: started PostgreSQL 17 \(host\)/);
    const url = /export DATABASE_URL='([^']+)'/.exec(cold.stdout.toString())?.[1];
    expect(url).toMatch(/^postgres:\/\/postgres:sluice@127\.0\.0\.1:\d+\/sluice$/);

    const psql = inRoot(
      `cd ~/sluice && source infra/local/lib.sh && pg_exec "$PGX/usr/lib/postgresql/17/bin/psql" '${url}' -At -f ~/check.sql`,
    );
    expect(psql.stdout.toString().trim().split('\n').at(-1), psql.stderr.toString()).toBe('t');
    expect(inRoot('id -u').stdout.toString().trim()).not.toBe('0');

    const again = performance.now();
    const warm = inRoot(`cd ~/sluice && ${env} infra/local/up`);
    expect(warm.status, warm.stderr.toString()).toBe(0);
    process.stdout.write(
      `non-root trixie: cold up ${coldS.toFixed(1)} s, warm up ${((performance.now() - again) / 1000).toFixed(1)} s\n`,
    );
  }, 900_000);
});
