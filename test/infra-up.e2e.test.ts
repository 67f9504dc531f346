import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

const glibc =
  spawnSync('getconf', ['GNU_LIBC_VERSION']).stdout.toString().trim().split(' ')[1] ?? '';
const [major, minor] = glibc.split('.').map(Number);
/** Below 2.39 trixie's PostgreSQL cannot run unpacked; a non-root user has no way to one. */
const oldGlibc =
  major !== undefined && minor !== undefined && (major < 2 || (major === 2 && minor < 39));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/**
 * infra/local/up as a newcomer who is not root and has no PostgreSQL: it must fail,
 * say what is missing and how to get it, export nothing and leave nothing running.
 * As root the test drops to nobody; as another user it runs as that user. The scripts run
 * from a copy in a folder that user owns: the checkout itself may sit where nobody can
 * read it (a root's home, a folder made by mktemp -d).
 */
describe.skipIf(!oldGlibc)('infra/local/up without root, PostgreSQL or a way to one', () => {
  let home: string;
  let nats: string;
  let UP: string;
  let START: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'sluice-nonroot-'));
    // The harness's nats-server, where a user without root can run it.
    nats = join(home, 'nats-server');
    copyFileSync(inject('natsServerBin'), nats);
    chmodSync(nats, 0o755);
    // What the scripts need of a checkout; an installed node_modules (its lockfile
    // stamp) lets scripts/start go straight to provisioning, as after `npm ci`.
    const checkout = join(home, 'sluice');
    cpSync(join(packageRoot, 'infra/local'), join(checkout, 'infra/local'), { recursive: true });
    for (const f of ['scripts/start', 'scripts/setup.sh', 'package-lock.json'])
      cpSync(join(packageRoot, f), join(checkout, f));
    mkdirSync(join(checkout, 'node_modules'));
    writeFileSync(join(checkout, 'node_modules/.package-lock.json'), '{}');
    UP = join(checkout, 'infra/local/up');
    START = join(checkout, 'scripts/start');
    chmodSync(home, 0o755);
    if (isRoot) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, home]);
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  const up = (env: Record<string, string>, script?: string) => {
    const vars = {
      HOME: home,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      SLUICE_CACHE_DIR: join(home, 'cache'),
      // Ports nothing else uses, so a server it wrongly left behind would be seen.
      SLUICE_NATS_PORT: '14999',
      SLUICE_PG_PORT: '15999',
      ...env,
    };
    const args = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
    // A script that wrongly goes on (and starts Sluice) fails here instead of hanging.
    const limit = { timeout: 60_000 };
    const r = isRoot
      ? spawnSync(
          'setpriv',
          [
            `--reuid=${NOBODY}`,
            `--regid=${NOBODY}`,
            '--clear-groups',
            'env',
            '-i',
            ...args,
            'bash',
            script ?? UP,
          ],
          limit,
        )
      : spawnSync('env', ['-i', ...args, 'bash', script ?? UP], limit);
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const natsRunning = () =>
    spawnSync('pgrep', ['-f', join(home, 'cache')])
      .stdout.toString()
      .trim() !== '' || existsSync(join(home, 'cache/run/nats.pid'));

  it('exits 1 with what to install, exports nothing and stops the nats-server it could start', () => {
    for (let run = 0; run < 2; run++) {
      // The second run meets what the first left: it must not think PostgreSQL runs.
      const r = up({ SLUICE_NATS_SERVER: nats });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^postgres: no PostgreSQL >= 17 with pgvector found/m);
      expect(r.stderr).toContain(`this host has glibc ${glibc}.`);
      expect(r.stderr).toContain('apt-get install postgresql-17 postgresql-17-pgvector');
      expect(r.stderr).toContain('set DATABASE_URL');
      expect(r.stderr).toContain(
        '1 of the servers Sluice needs cannot be provided; nothing was started',
      );
      expect(r.stderr).not.toContain('already running');
      expect(natsRunning()).toBe(false);
    }
  });

  it('stops scripts/start there too, before Sluice starts', () => {
    const r = up(
      { SLUICE_NATS_SERVER: nats, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      START,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('nothing was started');
    expect(r.stdout + r.stderr).not.toMatch(/sluice started|models:/);
    expect(natsRunning()).toBe(false);
  });

  it('says every missing piece at once', () => {
    // No nats-server either, and the Debian archive unreachable: a second message.
    const r = up({ SLUICE_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^nats: could not read Debian trixie's package lists from http:\/\/127.0.0.1:9\/debian/m,
    );
    expect(r.stderr).toContain('or set NATS_URL to a running server with JetStream');
    expect(r.stderr).toMatch(/^postgres: no PostgreSQL >= 17/m);
    expect(r.stderr).toContain('2 of the servers Sluice needs cannot be provided');
    expect(natsRunning()).toBe(false);
  });

  it('uses servers it is given, and starts nothing', () => {
    const r = up({
      NATS_URL: 'nats://127.0.0.1:4222',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5/db',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      "export NATS_URL='nats://127.0.0.1:4222'\nexport DATABASE_URL='postgres://u:p@127.0.0.1:5/db'\n",
    );
  });
});
