import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { Replayer } from '../src/replay/index.js';
import { failuresTotal, messagesTotal } from '../src/metrics.js';
import { whileNatsRecovers } from '../src/nats/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { applyTopology, declareTopology, streamName } from '../src/topology/index.js';
import { checksum } from './harness/checksums.js';
import { startTestApp, type TestApp } from './harness/app.js';
import {
  createTopologyConcurrently,
  startNatsCluster,
  untilClusterPlacesR3,
  untilReplicasCurrent,
  type NatsCluster,
} from './harness/cluster.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { testModelsDir } from './harness/models.js';
import { indexedDocs, pipelineConfig, pipelineModel, until } from './harness/pipeline.js';
import { runCli } from './harness/cli.js';
import { memoryLogger, type LogLine } from './harness/log-sink.js';
import { uniqueNamespace } from './harness/names.js';
import { startSluice, waitForLog, type SluiceProcess } from './harness/process.js';

// One 3-node cluster for the file: its describes run one after the other. afterAll runs
// even when beforeAll fails; startNatsCluster disposes of what it started if it fails.
// The hook's timeout outlasts the deadlines inside it (cluster start: 3 tries of about
// 110 s at most, each a port's 15 s, the join's 30 s and a connect's 5 s, placement's
// 45 s and its last try's 6 s, and a disposal; then a connect), so that a failure is
// theirs, after which afterAll disposes.
let cluster: NatsCluster;
let nc: NatsConnection;
beforeAll(async () => {
  cluster = await startNatsCluster(3);
  nc = await connect({
    servers: cluster.urls,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
}, 420_000);
afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

/**
 * The modular monolith split up: api, chunker, two embedders, indexer and projector as
 * separate processes on a 3-node JetStream cluster with R3 streams, under a steady
 * load. One embedder is killed (-9), then the NATS node leading the events stream; both
 * come back. Every document must end indexed exactly once, nothing dead-lettered, and
 * the read models must equal a clean rebuild from the streams.
 */
describe('roles as services on a NATS cluster, with faults', () => {
  let db: TestDatabase;
  let jsm: JetStreamManager;
  let config: Config;
  const procs = new Map<string, SluiceProcess>();
  let env: Record<string, string>;

  const start = async (name: string, roles: string): Promise<void> => {
    const p = startSluice(['start'], { ...env, SLUICE_ROLES: roles });
    procs.set(name, p);
    await waitForLog(p, 'sluice started', 180_000);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { natsUrl: cluster.urls, streamReplicas: 3 });
    // A new cluster answers JetStream once it has a meta leader; the topology is made
    // here once, so the six processes do not race to create it.
    // Until every peer has joined, an R3 stream has 'no suitable peers for placement'.
    const joined = Date.now() + 120_000;
    for (;;) {
      try {
        jsm = await whileNatsRecovers(async () => {
          const m = await jetstreamManager(nc, { timeout: 2_000 });
          await applyTopology(m, nc, declareTopology(config));
          return m;
        });
        break;
      } catch (err) {
        if (!/no suitable peers/.test(String(err)) || Date.now() > joined) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    env = {
      LOG_FORMAT: 'json',
      NATS_URL: cluster.urls.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_MODELS_DIR: testModelsDir(),
      SLUICE_MODELS: pipelineModel,
      SLUICE_STREAM_REPLICAS: '3',
      SLUICE_ACK_WAIT: '10s',
      SLUICE_HTTP_PORT: '0',
    };
    await Promise.all([
      start('api', 'api'),
      start('chunker', 'chunker'),
      start('embedder-1', 'embedder'),
      start('embedder-2', 'embedder'),
      start('indexer', 'indexer'),
      start('projector', 'projector'),
    ]);
  }, 300_000);
  afterAll(async () => {
    for (const p of procs.values()) await p.kill('SIGTERM').catch(() => {});
    await db?.drop();
  });

  it('sluice status lists every process with its roles, from their heartbeats', async () => {
    const r = await runCli(['status', '--json', '--sample', '0'], env);
    expect(r.code, r.stderr).toBe(0);
    const { processes, durables } = JSON.parse(r.stdout) as {
      processes: { roles: string[]; pid: number; openBreakers: unknown[] }[];
      durables: { durable: string; state: string }[];
    };
    expect(processes.map((p) => p.roles.join(',')).sort()).toEqual(
      ['api', 'chunker', 'embedder', 'embedder', 'indexer', 'projector'].sort(),
    );
    expect(new Set(processes.map((p) => p.pid))).toEqual(
      new Set([...procs.values()].map((p) => p.child.pid)),
    );
    expect(processes.every((p) => p.openBreakers.length === 0)).toBe(true);
    expect(durables.find((d) => d.durable === 'chunker')?.state).toBe('ok');
  }, 60_000);

  it('indexes every document exactly once through an embedder crash and a stream leader crash', async () => {
    const N = 600;
    const versions = new Map<string, number>();
    const producer = new Producer({
      nc,
      namespace: config.namespace,
      retryDeadlineMs: 60_000,
      ackTimeoutMs: 2_000,
    });
    // A steady load: 20 documents every 500 ms.
    const publishing = (async () => {
      for (let i = 0; i < N; i += 20) {
        const summary = await producer.publishBatch(
          Array.from({ length: 20 }, (_, j) =>
            producer.event('sluice.document.upserted.v1', {
              tenant: 'acme',
              collection: 'docs',
              documentId: `doc-${i + j}`,
              text: `Document ${i + j} is about topic ${(i + j) % 11}. ${'It has a few plain sentences. '.repeat(1 + ((i + j) % 3))}`,
            }),
          ),
          { onResult: (r) => r.seq !== undefined && versions.set(`doc-${i + r.index}`, r.seq) },
        );
        expect(summary.failed + summary.rejected).toBe(0);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    const indexed = async (): Promise<number> => {
      const docs = await indexedDocs(db.sql);
      let n = 0;
      for (const [id, d] of docs)
        if (d.version === versions.get(id) && d.rows === d.chunk_count && d.rows > 0) n++;
      return n;
    };
    const timeline: { t: number; n: number }[] = [];
    const t0 = Date.now();
    const sample = setInterval(() => {
      void indexed().then((n) => timeline.push({ t: Date.now() - t0, n }));
    }, 1000);
    try {
      await until(async () => (await indexed()) >= 100, 120_000, '100 indexed');
      const crashes: { what: string; at: number }[] = [];
      expect(await procs.get('embedder-1')!.kill('SIGKILL')).toBe('SIGKILL');
      crashes.push({ what: 'embedder-1 killed', at: Date.now() - t0 });
      await until(async () => (await indexed()) >= 200, 120_000, '200 indexed');
      const events = streamName(config.namespace, 'events');
      const leader = (await jsm.streams.info(events)).cluster?.leader ?? '';
      const node = cluster.server(leader);
      await node.kill();
      crashes.push({ what: `NATS node ${leader} (events leader) killed`, at: Date.now() - t0 });
      await new Promise((r) => setTimeout(r, 5_000));
      // Back means answering as itself, routed to the others, and current on every stream:
      // an open port says none of it (a node that cannot bind its cluster port exits after
      // opening it), and a node that is gone shows for minutes as a replica behind, not
      // offline, which the replay at the end would wait on in vain. embedder-1 therefore
      // comes back once the node has caught up, not while it still is.
      await cluster.restart(node);
      await untilReplicasCurrent(jsm);
      crashes.push({ what: `NATS node ${leader} back`, at: Date.now() - t0 });
      await start('embedder-1', 'embedder');
      crashes.push({ what: 'embedder-1 back', at: Date.now() - t0 });
      await publishing;
      await until(async () => (await indexed()) === N, 300_000, `all ${N} indexed`);
      const done = Date.now() - t0;

      for (const [name, p] of procs) expect(p.child.exitCode, `${name}: ${p.output()}`).toBeNull();
      const docs = await indexedDocs(db.sql);
      expect(docs.size).toBe(N);
      for (const d of docs.values()) {
        expect(d.stale_rows).toBe(0);
        expect(d.max_index).toBe(d.chunk_count - 1);
      }
      const letters = new DeadLetters(
        nc,
        config.namespace,
        new PipelinePublisher({ nc, source: 'urn:test' }),
      );
      expect((await letters.list()).items).toEqual([]);
      await until(
        async () =>
          (
            await db.sql<{ n: number }[]>`
              SELECT count(*)::int AS n FROM proj_documents WHERE status = 'indexed'`
          )[0]!.n === N,
        120_000,
        'the read model to say indexed for all',
      );

      // The read models equal a clean rebuild from the streams.
      const replayer = new Replayer({
        nc,
        sql: db.sql,
        config,
        logger: createLogger({ level: 'silent' }),
      });
      for (const projection of ['documents', 'index'] as const) {
        const tables =
          projection === 'documents'
            ? ['proj_documents']
            : ['index_documents', 'index_chunks', 'keyword_postings'];
        const live = await Promise.all(tables.map((t) => checksum(db.sql, t)));
        await replayer.run(projection, { replacePrevious: true });
        expect(await Promise.all(tables.map((t) => checksum(db.sql, t)))).toEqual(live);
      }

      const rate = (from: number, to: number): string => {
        const a = timeline.filter((x) => x.t >= from && x.t <= to);
        if (a.length < 2) return '—';
        return ((a.at(-1)!.n - a[0]!.n) / ((a.at(-1)!.t - a[0]!.t) / 1000)).toFixed(1);
      };
      const firstCrash = crashes[0]!.at;
      const back = crashes.at(-1)!.at;
      console.log(
        `\nCluster services: ${N} documents, 6 processes on 3 NATS nodes (R3)\n` +
          crashes.map((c) => `  ${(c.at / 1000).toFixed(1)} s: ${c.what}`).join('\n') +
          `\n  ${(done / 1000).toFixed(1)} s: all indexed once, 0 dead letters, read models equal a rebuild\n` +
          `  indexed per second: before ${rate(0, firstCrash)}, during ${rate(firstCrash, back)}, after ${rate(back, done)}; ` +
          `caught up ${((done - back) / 1000).toFixed(1)} s after everything was back\n`,
      );
    } finally {
      clearInterval(sample);
    }
  }, 600_000);
});

/**
 * An R1 stream (chunks) whose only node is stopped for twice the publish deadline while
 * documents flow. The chunker's publishes get no responders until their deadline: that
 * is an outage (NATS_UNAVAILABLE) the NATS probe confirms by asking the chunks stream for
 * its leader (nc.flush() alone answers), so the breaker opens and the chunker holds its
 * batch, spending no attempt. After the node is back: every document indexed once, 0
 * dead letters.
 */
describe('an R1 stream whose node is stopped past the publish deadline', () => {
  const DEADLINE_MS = 3_000;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.stop();
  });

  it('opens the NATS breaker, spends no attempt, and indexes every document once', async () => {
    // The describe before killed a node: wait until the cluster places R3 streams again,
    // or the app's start may outlast its deadline while JetStream answers 503.
    await untilClusterPlacesR3(nc);
    const { logger, lines } = memoryLogger('info');
    const t0 = Date.now();
    const overrides: Partial<Config> = {
      namespace: uniqueNamespace(),
      natsUrl: cluster.urls,
      streamReplicas: 3,
      publishDeadline: DEADLINE_MS,
      ackWait: 10_000,
      roles: ['chunker', 'embedder', 'indexer'],
    };
    // A guard against a hang, not a bound: an R3 group's election outlasts 5 s on a
    // loaded machine (a consumer's add timed out in one clean-clone run).
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    await createTopologyConcurrently(
      jsm,
      nc,
      declareTopology(pipelineConfig('postgres://topology-only', overrides)),
    );
    t = await startTestApp(overrides, logger);
    const started = Date.now();
    const ns = t.config.namespace;
    // The chunks stream alone is R1: its node's stop leaves it (and the embedder's
    // durable on it) without a leader, while every other stream keeps a quorum.
    const chunks = streamName(ns, 'chunks');
    await jsm.streams.update(chunks, {
      ...(await jsm.streams.info(chunks)).config,
      num_replicas: 1,
    });
    let host = '';
    await until(
      async () => {
        const info = await jsm.streams.info(chunks);
        host = info.cluster?.leader ?? '';
        return info.config.num_replicas === 1 && host !== '' && !info.cluster?.replicas?.length;
      },
      30_000,
      'the chunks stream scaled to R1',
    );
    const node = cluster.server(host);

    const producer = new Producer({ nc, namespace: ns, retryDeadlineMs: 60_000 });
    const versions = new Map<string, number>();
    const publish = async (ids: string[]): Promise<void> => {
      const summary = await producer.publishBatch(
        ids.map((id, i) =>
          producer.event('sluice.document.upserted.v1', {
            tenant: 'acme',
            collection: 'r1',
            documentId: id,
            text: `Document ${id} is about topic ${i % 7}. ${'It has a few plain sentences. '.repeat(1 + (i % 3))}`,
          }),
        ),
        { onResult: (r) => r.seq !== undefined && versions.set(ids[r.index]!, r.seq) },
      );
      expect(summary.failed + summary.rejected).toBe(0);
    };
    const indexed = async (): Promise<number> => {
      let n = 0;
      for (const [id, d] of await indexedDocs(t!.db.sql))
        if (d.version === versions.get(id) && d.rows === d.chunk_count && d.rows > 0) n++;
      return n;
    };
    // The pipeline is warm (model loaded, consumers pulling) before the fault.
    await publish(['warm']);
    await until(async () => (await indexed()) === 1, 120_000, 'the first document indexed');

    const warm = Date.now();
    const N = 40;
    const stopped = Date.now();
    await node.stop();
    await publish(Array.from({ length: N }, (_, i) => `doc-${i}`));
    const opened = (): LogLine | undefined =>
      lines.find((l) => l.msg.startsWith('dependency unavailable') && l.dependency === 'nats');
    await until(() => opened() !== undefined, 60_000, 'the NATS breaker open');
    // Down for twice the deadline in all: every publish in the window outlasts it.
    await new Promise((r) => setTimeout(r, Math.max(0, stopped + 2 * DEADLINE_MS - Date.now())));
    await cluster.restart(node);
    // Back once the node is routed again (cluster.restart): the figures below count from
    // there.
    const back = Date.now();
    await until(async () => (await indexed()) === N + 1, 120_000, `all ${N + 1} indexed`);
    const done = Date.now();

    const docs = await indexedDocs(t.db.sql);
    expect(docs.size).toBe(N + 1);
    for (const d of docs.values()) expect(d.stale_rows).toBe(0);
    const letters = new DeadLetters(nc, ns, new PipelinePublisher({ nc, source: 'urn:test' }));
    expect((await letters.list()).items).toEqual([]);
    // The chunker held its batch: no failure reached the retry decision.
    const failures = (await failuresTotal.get()).values.filter(
      (v) => v.labels.consumer === 'chunker',
    );
    const spent = failures.reduce((n, v) => n + v.value, 0);
    expect(spent, JSON.stringify(failures)).toBe(0);
    const held = (await messagesTotal.get()).values
      .filter((v) => v.labels.consumer === 'chunker' && v.labels.outcome === 'held')
      .reduce((n, v) => n + v.value, 0);
    expect(held).toBeGreaterThan(0);
    const closed = lines.find((l) => l.msg.startsWith('dependency answers again'));
    expect(closed?.dependency).toBe('nats');

    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `\nSluice started in ${s(started - t0)}, chunks scaled to R1 and one document indexed ${s(warm - started)} later\n` +
        `R1 chunks stream on ${host}, node stopped for ${s(back - stopped)} (publish deadline ${s(DEADLINE_MS)})\n` +
        `  NATS breaker opened ${s((opened()!.time as number) - stopped)} after the stop: ${String(opened()!.reason)}\n` +
        `  chunker: ${held} deliveries held, ${spent} attempts spent; breaker closed after ${s(Number(closed?.downForMs))}\n` +
        `  all ${N + 1} documents indexed once ${s(done - back)} after the node came back, 0 dead letters\n`,
    );
  }, 300_000);
});
