/**
 * Producer throughput: the Sluice producer SDK against raw @nats-io/jetstream publishes
 * of the same messages, side by side in one run, and HTTP ingest under autocannon.
 *
 *   npm run bench:producer -- [--events 100000] [--rounds 2] [--in-flight 256] [--http-seconds 10]
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { buildApp } from '../src/api/app.js';
import { loadConfig, type Config } from '../src/config/index.js';
import type { SluiceEvent } from '../src/contracts/index.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import {
  Subjects,
  applyTopology,
  declareTopology,
  streamName,
  deleteNamespace,
} from '../src/topology/index.js';
import { benchNamespace, flag, machine, median, servers, table } from './lib.js';

const EVENTS = flag('events', 100_000);
const ROUNDS = flag('rounds', 2);
const IN_FLIGHT = flag('in-flight', 256);
const HTTP_SECONDS = flag('http-seconds', 10);

function makeEvents(p: Producer, n: number, tag: string): SluiceEvent[] {
  // ~300 bytes per event on the wire (payload + ce- headers).
  return Array.from({ length: n }, (_, i) =>
    p.event('sluice.document.upserted.v1', {
      tenant: 'bench',
      collection: 'docs',
      documentId: `${tag}-${i}`,
      title: `Document ${i}`,
      text: `Event ${i} of the producer benchmark: a short body so the whole message is about three hundred bytes.`,
    }),
  );
}

async function freshTopology(nc: NatsConnection, base: Config): Promise<Config> {
  const config = { ...base, namespace: benchNamespace('bp') };
  await applyTopology(await jetstreamManager(nc), nc, declareTopology(config));
  return config;
}

/** Publishes with at most IN_FLIGHT acks pending: the window every path below uses. */
async function windowed<T>(items: T[], publish: (item: T) => Promise<unknown>): Promise<number> {
  const inFlight = new Set<Promise<unknown>>();
  const t0 = performance.now();
  for (const item of items) {
    const p = publish(item).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return items.length / ((performance.now() - t0) / 1000);
}

/**
 * Raw client, as a producer writes it by hand: the event as JSON (CloudEvents
 * structured mode), the event id as message id, no validation. Encoding happens in the
 * loop, as it would in a real producer.
 */
async function raw(nc: NatsConnection, config: Config, events: SluiceEvent[]): Promise<number> {
  const js = jetstream(nc);
  const subjects = new Subjects(config.namespace);
  return windowed(events, (e) =>
    js.publish(subjects.event(e.data), JSON.stringify(e), { msgID: e.id }),
  );
}

/** The ceiling: raw publishes of messages encoded before the clock starts. */
async function rawPreEncoded(
  nc: NatsConnection,
  config: Config,
  events: SluiceEvent[],
): Promise<number> {
  const js = jetstream(nc);
  const subjects = new Subjects(config.namespace);
  const msgs = events.map((e) => ({
    subject: subjects.event(e.data),
    payload: new TextEncoder().encode(JSON.stringify(e)),
    id: e.id,
  }));
  return windowed(msgs, (m) => js.publish(m.subject, m.payload, { msgID: m.id }));
}

async function sdk(nc: NatsConnection, config: Config, events: SluiceEvent[]): Promise<number> {
  const p = new Producer({ nc, namespace: config.namespace });
  const t0 = performance.now();
  const s = await p.publishBatch(events, { maxInFlight: IN_FLIGHT });
  if (s.accepted !== events.length) throw new Error(`sdk stored ${s.accepted} of ${events.length}`);
  return events.length / ((performance.now() - t0) / 1000);
}

async function stored(nc: NatsConnection, namespace: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(streamName(namespace, 'events'))).state
    .messages;
}

async function http(
  nc: NatsConnection,
  base: Config,
  perRequest: number,
): Promise<{ eventsPerSecond: number; p50: number; p99: number; stored: number }> {
  const config = await freshTopology(nc, base);
  const producer = new Producer({ nc, namespace: config.namespace });
  const app = await buildApp({
    logger: createLogger({ level: 'silent' }),
    bodyLimit: config.httpBodyLimit,
    auth: { mode: 'off', tenant: 'bench' },
    // The ingest's own speed, not the per-client limit (1,200 requests a minute by default).
    rateLimit: 1_000_000_000,
    ingest: { producer },
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  let n = 0;
  const body = (): string =>
    Array.from({ length: perRequest }, () => {
      const i = n++;
      return JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:bench',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant: 'bench',
          collection: 'docs',
          documentId: `h-${i}`,
          title: `Document ${i}`,
          text: `Event ${i} of the HTTP benchmark, about three hundred bytes.`,
        },
      });
    }).join('\n');
  const result = await autocannon({
    url: `${address}/v1/events`,
    method: 'POST',
    connections: perRequest === 1 ? 64 : 8,
    duration: HTTP_SECONDS,
    headers: { 'content-type': 'application/x-ndjson' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  await app.close();
  const count = await stored(nc, config.namespace);
  await deleteNamespace(nc, config.namespace);
  if (result.non2xx > 0)
    throw new Error(
      `${result.non2xx} HTTP answers were not 2xx (by status: ${JSON.stringify(result.statusCodeStats)})`,
    );
  return {
    eventsPerSecond: count / HTTP_SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    stored: count,
  };
}

async function main(): Promise<void> {
  const { natsUrl, databaseUrl } = servers();
  const base = loadConfig({}, { natsUrl: [natsUrl], databaseUrl });
  // The same connection options Sluice uses (src/nats/connect.ts) for every path.
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const gen = new Producer({ nc, namespace: 'x' });
  const paths = { raw, sdk, rawPreEncoded } as const;
  const rates: Record<keyof typeof paths, number[]> = { raw: [], sdk: [], rawPreEncoded: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so neither path always runs on a warmer server.
    const order: (keyof typeof paths)[] =
      r % 2 === 0 ? ['raw', 'sdk', 'rawPreEncoded'] : ['sdk', 'raw', 'rawPreEncoded'];
    for (const kind of order) {
      const config = await freshTopology(nc, base);
      const events = makeEvents(gen, EVENTS, `${kind}${r}`);
      const rate = await paths[kind](nc, config, events);
      const n = await stored(nc, config.namespace);
      if (n !== EVENTS) throw new Error(`${kind}: ${n} of ${EVENTS} stored`);
      rates[kind].push(rate);
      process.stderr.write(`round ${r + 1} ${kind}: ${Math.round(rate)} events/s\n`);
      await deleteNamespace(nc, config.namespace);
    }
  }
  const rawMed = median(rates.raw);
  const sdkMed = median(rates.sdk);
  const preMed = median(rates.rawPreEncoded);
  const h1 = await http(nc, base, 100);
  const h2 = await http(nc, base, 1);
  await nc.close();

  process.stdout.write(
    `\nProducer benchmark — ${EVENTS.toLocaleString()} events of ~300 bytes, ${IN_FLIGHT} acks in flight, ${ROUNDS} rounds (median), ${machine()}\n\n`,
  );
  process.stdout.write(
    `${table(
      ['path', 'events/s', 'ratio to raw'],
      [
        [
          'raw @nats-io/jetstream: JSON.stringify + publish, msgID = event id',
          Math.round(rawMed),
          1,
        ],
        [
          'Sluice producer SDK: validate + CloudEvents binary mode + publish',
          Math.round(sdkMed),
          sdkMed / rawMed,
        ],
        [
          '(ceiling) raw publish of messages encoded before timing',
          Math.round(preMed),
          preMed / rawMed,
        ],
      ],
    )}\n\n`,
  );
  process.stdout.write(
    `${table(
      [
        'HTTP ingest (autocannon, ' + HTTP_SECONDS + ' s)',
        'events/s stored',
        'request p50 ms',
        'request p99 ms',
      ],
      [
        [
          'NDJSON, 100 events per request, 8 connections',
          Math.round(h1.eventsPerSecond),
          h1.p50,
          h1.p99,
        ],
        ['one event per request, 64 connections', Math.round(h2.eventsPerSecond), h2.p50, h2.p99],
      ],
    )}\n`,
  );
}

await main();
