import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Producer } from '../src/producers/index.js';
import { applyTopology, declareTopology, streamName } from '../src/topology/index.js';
import { startNatsCluster } from './harness/cluster.js';
import { testConfig } from './harness/config.js';

describe('producer on a 3-node JetStream cluster', () => {
  it('stores every event exactly once when the stream leader is killed mid-batch', async () => {
    // Disposed of when the test ends, whatever ends it (a failed connect, the timeout):
    // a finally after the connect was never reached when the test timed out first, and
    // the cluster outlived the file. startNatsCluster disposes of what it started if it
    // fails.
    const cluster = await startNatsCluster(3);
    onTestFinished(() => cluster.dispose());
    const nc = await connect({
      servers: cluster.urls,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      noAsyncTraces: true,
    });
    onTestFinished(() => nc.close());
    const config = testConfig({ natsUrl: cluster.urls, streamReplicas: 3 });
    // startNatsCluster returned once the cluster placed an R3 stream.
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    await applyTopology(jsm, nc, declareTopology(config));
    const events = streamName(config.namespace, 'events');
    expect((await jsm.streams.info(events)).config.num_replicas).toBe(3);

    const producer = new Producer({
      nc,
      namespace: config.namespace,
      retryDeadlineMs: 60_000,
      ackTimeoutMs: 2_000,
    });
    const N = 5_000;
    let acked = 0;
    let killed: Promise<string> | undefined;
    const summary = await producer.publishBatch(
      Array.from({ length: N }, (_, i) =>
        producer.event('sluice.document.upserted.v1', {
          tenant: 't',
          collection: 'c',
          documentId: `d${i}`,
          text: `t${i}`,
        }),
      ),
      {
        maxInFlight: 64,
        onResult: (r) => {
          if (r.status === 'accepted' && ++acked === 1_000) {
            killed = (async () => {
              const leader = (await jsm.streams.info(events)).cluster?.leader ?? '';
              const victim = cluster.server(leader);
              await victim.kill();
              return leader;
            })();
          }
        },
      },
    );
    expect(await killed).toMatch(/^n[123]$/);
    expect(producer.retries, 'publishes were retried through the election').toBeGreaterThan(0);
    expect(summary.failed + summary.rejected).toBe(0);
    expect(summary.accepted + summary.duplicate).toBe(N);
    const info = await jsm.streams.info(events);
    expect(info.state.messages).toBe(N);
    expect(info.state.num_subjects).toBe(N);
    expect(info.cluster?.leader).not.toBe(await killed);
    // The test's timeout outlasts its deadlines (cluster start: 3 tries of about 110 s at
    // most, each a port's 15 s, the join's 30 s and a connect's 5 s, placement's 45 s and
    // its last try's 6 s, and a disposal; the topology; the publishes' 60 s retry
    // deadline): a failure is theirs, with its message, and the cleanup runs.
  }, 540_000);
});
