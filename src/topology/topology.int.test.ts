import { AckPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config/index.js';
import {
  applyTopology,
  declareTopology,
  deleteNamespace,
  durableConsumer,
  durables,
  inspectTopology,
  streamName,
} from './index.js';
import { testConfig } from '../../test/harness/config.js';

describe('topology: declared, applied, compared', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let config: Config;
  beforeAll(async () => {
    config = testConfig();
    nc = await connect({ servers: config.natsUrl });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
  });

  it('creates everything once; a second apply changes nothing', async () => {
    const first = await applyTopology(jsm, nc, declareTopology(config));
    expect(new Set(first.map((r) => r.state))).toEqual(new Set(['created']));
    const second = await applyTopology(jsm, nc, declareTopology(config));
    expect(second.filter((r) => r.state !== 'ok')).toEqual([]);
    // Durables read their whole stream: no filter at all (filter_subjects is slow on 2.10).
    const info = await jsm.consumers.info(streamName(config.namespace, 'events'), durables.chunker);
    expect(info.config.filter_subject ?? '').toBe('');
    expect(info.config.filter_subjects ?? []).toEqual([]);
  });

  it('finds a durable left with an old filter_subjects and removes the filter', async () => {
    const stream = streamName(config.namespace, 'events');
    await jsm.consumers.delete(stream, durables.chunker);
    await jsm.consumers.add(stream, {
      ...declareTopology(config).consumers.find((c) => c.config.durable_name === durables.chunker)!
        .config,
      filter_subjects: [`${config.namespace}.events.>`],
    });
    const rows = await inspectTopology(jsm, declareTopology(config));
    const row = rows.find((r) => r.name === `${stream}/${durables.chunker}`)!;
    expect(row.state).toBe('differs');
    expect(row.diffs).toEqual([`filter: ["${config.namespace}.events.>"] → []`]);

    const applied = await applyTopology(jsm, nc, declareTopology(config));
    expect(applied.find((r) => r.name === row.name)!.state).toBe('updated');
    const info = await jsm.consumers.info(stream, durables.chunker);
    expect(info.config.filter_subjects ?? []).toEqual([]);
    expect(info.config.filter_subject ?? '').toBe('');
    expect(
      (await inspectTopology(jsm, declareTopology(config))).filter((r) => r.state !== 'ok'),
    ).toEqual([]);
  });

  it('declares one filter as filter_subject and compares it either way', async () => {
    const stream = streamName(config.namespace, 'status');
    const declared = durableConsumer(stream, 'tenant-acme', [`${config.namespace}.status.acme.>`]);
    expect(declared.config.filter_subject).toBe(`${config.namespace}.status.acme.>`);
    expect(declared.config.filter_subjects).toBeUndefined();
    expect(declared.config.ack_policy).toBe(AckPolicy.Explicit);
    const d = { streams: [], consumers: [declared], buckets: [] };
    expect((await applyTopology(jsm, nc, d))[0]!.state).toBe('created');
    expect((await inspectTopology(jsm, d))[0]!.state).toBe('ok');
  });
});
