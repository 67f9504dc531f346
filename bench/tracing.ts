/**
 * What tracing costs. Two figures, measured in one run:
 *
 * 1. Off (the default): the tracing calls one message goes through in every stage
 *    (extract, a consumer span, a producer span with inject, end) against the no-op API,
 *    in nanoseconds per message, in this process, where no tracer is registered.
 * 2. The whole pipeline (chunker → embedder → indexer, one Sluice process, the fast
 *    static model so that the pipeline's own overhead shows) with tracing off and with
 *    tracing on, exporting every span over OTLP/HTTP to a receiver in this process.
 *    Runs alternate; the table reports medians.
 *
 *   npm run bench:tracing -- [--passages 1000] [--rounds 3] [--calls 200000]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import postgres from 'postgres';
import { loadConfig } from '../src/config/index.js';
import { Producer } from '../src/producers/index.js';
import { applyTopology, declareTopology, deleteNamespace } from '../src/topology/index.js';
import { endSpan, processSpan, sendSpan } from '../src/tracing/index.js';
import {
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  median,
  passages,
  servers,
  sharedDir,
  sluice,
  stopProcess,
  table,
  waitStarted,
  waitAllIndexed,
} from './lib.js';

const PASSAGES = flag('passages', 1000);
const ROUNDS = flag('rounds', 3);
const CALLS = flag('calls', 200_000);
const MODEL = 'sluice-static-384';

/** ns per message of the calls every stage makes, with no tracer registered. */
async function offCost(): Promise<number> {
  const run = async (n: number): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const h = headers();
      const { span } = processSpan({
        subject: 'bench.events.t.c.k',
        durable: 'chunker',
        headers: h,
        seq: i,
        attempt: 1,
        attributes: { 'sluice.tenant': 't', 'sluice.collection': 'c' },
      });
      await sendSpan(h, { subject: 'bench.chunks.t.c.k', msgId: 'x', bytes: 10 }, () =>
        Promise.resolve(1),
      );
      endSpan(span);
    }
    return Number(process.hrtime.bigint() - t0) / n;
  };
  // The same loop without the tracing calls: what is left is their cost.
  const bare = async (n: number): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      headers();
      await Promise.resolve(1);
    }
    return Number(process.hrtime.bigint() - t0) / n;
  };
  await run(CALLS / 10);
  await bare(CALLS / 10);
  const with_ = median([await run(CALLS), await run(CALLS), await run(CALLS)]);
  const without = median([await bare(CALLS), await bare(CALLS), await bare(CALLS)]);
  return with_ - without;
}

/** An OTLP/HTTP endpoint that counts the spans it receives. */
async function receiver() {
  let spans = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString()) as {
        resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
      };
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function pipelineRun(traced: boolean, otlpUrl: string): Promise<number> {
  const { natsUrl, databaseUrl } = servers();
  const db = await benchDatabase(databaseUrl);
  const namespace = benchNamespace('btr');
  const nc = await connect({ servers: natsUrl });
  const config = loadConfig({
    NATS_URL: natsUrl,
    SLUICE_NAMESPACE: namespace,
    SLUICE_MODELS: MODEL,
  });
  await applyTopology(await jetstreamManager(nc), nc, declareTopology(config));
  const p = sluice(['start'], {
    NATS_URL: natsUrl,
    DATABASE_URL: db.url,
    SLUICE_NAMESPACE: namespace,
    SLUICE_MODELS_DIR: join(sharedDir, 'models'),
    SLUICE_MODELS: MODEL,
    SLUICE_ROLES: 'chunker,embedder,indexer',
    LOG_FORMAT: 'json',
    ...(traced ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl } : {}),
  });
  await waitStarted(p);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const producer = new Producer({ nc, namespace });
  const docs = passages(PASSAGES);
  const t0 = performance.now();
  await producer.publishBatch(
    docs.map((d) =>
      producer.event('sluice.document.upserted.v1', {
        tenant: 'bench',
        collection: 'scifact',
        documentId: d.id,
        text: d.text,
      }),
    ),
  );
  await waitAllIndexed(sql, docs.length, 600_000);
  const docsPerSecond = docs.length / ((performance.now() - t0) / 1000);
  await sql.end();
  await stopProcess(p.child);
  await deleteNamespace(nc, namespace);
  await nc.close();
  await db.drop();
  return docsPerSecond;
}

const ns = await offCost();
const otlp = await receiver();
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  off.push(await pipelineRun(false, otlp.url));
  on.push(await pipelineRun(true, otlp.url));
  console.error(
    `round ${r + 1}: off ${off.at(-1)!.toFixed(1)}, on ${on.at(-1)!.toFixed(1)} docs/s`,
  );
}
await otlp.close();
console.log(`\n${machine()}; ${PASSAGES} SciFact passages, ${MODEL}, ${ROUNDS} rounds\n`);
console.log(
  table(
    ['measure', 'value'],
    [
      ['tracing calls per message per stage, tracing off (ns)', Math.round(ns)],
      ['pipeline, tracing off (docs/s, median)', median(off)],
      ['pipeline, tracing on, OTLP export (docs/s, median)', median(on)],
      ['on ÷ off', median(on) / median(off)],
      ['spans exported (all "on" rounds)', otlp.spans()],
    ],
  ),
);
