import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromMessage, validateEvent } from '../src/contracts/index.js';
import type { Config } from '../src/config/index.js';
import { streamName, deleteNamespace } from '../src/topology/index.js';
import { runCli } from './harness/cli.js';
import { testConfig } from './harness/config.js';

describe('sluice publish and sluice topology (CLI processes)', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let config: Config;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    config = testConfig();
    env = { NATS_URL: config.natsUrl.join(','), SLUICE_NAMESPACE: config.namespace };
    nc = await connect({ servers: config.natsUrl });
    jsm = await jetstreamManager(nc);
    dir = mkdtempSync(join(tmpdir(), 'sluice-publish-'));
    mkdirSync(join(dir, 'guides'));
    writeFileSync(join(dir, 'guides/onboarding.md'), '# Welcome aboard\n\nFirst week.\n');
    writeFileSync(join(dir, 'notes.txt'), 'plain notes');
    writeFileSync(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00]));
    writeFileSync(join(dir, '.hidden'), 'skipped');
  });
  afterAll(async () => {
    await deleteNamespace(nc, config.namespace);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async () => {
    const out: Record<string, unknown>[] = [];
    const info = await jsm.streams.info(streamName(config.namespace, 'events'));
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(streamName(config.namespace, 'events'), { seq });
      if (m) out.push(validateEvent(fromMessage({ headers: m.header, data: m.data })).data);
    }
    return out;
  };

  it('topology shows what is missing, --apply creates it, then all is ok', async () => {
    const before = await runCli(['topology'], env);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(
      new RegExp(`${config.namespace.toUpperCase()}_EVENTS\\s+missing`),
    );
    const applied = await runCli(['topology', '--apply', '--json'], env);
    expect(applied.code).toBe(0);
    expect(
      (JSON.parse(applied.stdout) as { state: string }[]).every((r) => r.state === 'created'),
    ).toBe(true);
    const after = await runCli(['topology'], env);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toMatch(/missing|differs/);
  });

  it('publishes a directory of files: ids from paths, markdown titles, binaries rejected', async () => {
    const r = await runCli(
      ['publish', dir, '--tenant', 'acme', '--collection', 'handbook', '--json'],
      env,
    );
    const report = JSON.parse(r.stdout) as {
      total: number;
      accepted: number;
      rejected: number;
      problems: { origin: string; message: string }[];
    };
    expect(report).toMatchObject({ total: 3, accepted: 2, rejected: 1 });
    expect(report.problems[0]!.origin).toMatch(/logo\.png$/);
    expect(report.problems[0]!.message).toMatch(/not UTF-8/);
    expect(r.code).toBe(1);

    const docs = await stored();
    expect(docs.map((d) => d.documentId).sort()).toEqual(['guides/onboarding.md', 'notes.txt']);
    expect(docs.find((d) => d.documentId === 'guides/onboarding.md')).toMatchObject({
      title: 'Welcome aboard',
      mimeType: 'text/markdown',
      tenant: 'acme',
      collection: 'handbook',
    });
  });

  it('publishes NDJSON from stdin and prints a human summary', async () => {
    const lines = [1, 2, 3].map((i) =>
      JSON.stringify({
        specversion: '1.0',
        id: `stdin-${i}`,
        source: 'urn:test',
        type: 'sluice.document.upserted.v1',
        data: { tenant: 'acme', collection: 'piped', documentId: `p${i}`, text: `text ${i}` },
      }),
    );
    const r = await runCli(['publish', '-'], env, `${lines.join('\n')}\n${lines[0]}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /published 4 event\(s\) .*3 accepted, 1 duplicate, 0 rejected, 0 failed/,
    );
  });

  it('refuses plain files without a tenant and collection', async () => {
    const r = await runCli(['publish', join(dir, 'notes.txt')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/need --tenant and --collection/);
  });

  it("status shows every durable's backlog: what was published waits for the chunker", async () => {
    const stored = (await jsm.streams.info(streamName(config.namespace, 'events'))).state.messages;
    expect(stored).toBeGreaterThan(0);
    const r = await runCli(['status', '--json', '--sample', '0'], env);
    expect(r.code).toBe(0);
    const { durables: rows, processes } = JSON.parse(r.stdout) as {
      durables: { durable: string; pending: number; state: string }[];
      processes: unknown[];
    };
    // No Sluice process runs in this test: none has a heartbeat.
    expect(processes).toEqual([]);
    expect(rows.find((x) => x.durable === 'chunker')).toMatchObject({
      pending: stored,
      state: 'ok',
    });
    expect(rows.find((x) => x.durable === 'output-events')).toMatchObject({ pending: stored });
    const text = await runCli(['status', '--sample', '0'], env);
    expect(text.stdout.split('\n')[0]).toMatch(/^DURABLE\s+STREAM\s+PENDING/);
    expect(text.stdout).toContain('no running processes');
  });
});
