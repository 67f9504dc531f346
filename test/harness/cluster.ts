import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { applyTopology, type Declared } from '../../src/topology/index.js';
import { whileNatsRecovers } from '../../src/nats/index.js';
import { randomToken } from './names.js';
import { freePorts, startNatsServer, type NatsServerHandle } from './servers.js';

export interface NatsCluster {
  servers: NatsServerHandle[];
  urls: string[];
  dispose(): Promise<void>;
}

/** A JetStream cluster of `size` nats-servers on free ports (R3 streams need three). */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  // Client and cluster ports chosen together: distinct, which separate calls are not.
  const ports = await freePorts(2 * size);
  const clusterPorts = ports.slice(0, size);
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  // A name of its own: two test files' clusters side by side must never take each other's
  // nodes for their own (the server names n1…n3 repeat), should a route reach the other.
  const clusterName = `sluice-test-${randomToken(6)}`;
  const servers = await Promise.all(
    clusterPorts.map((cp, i) =>
      startNatsServer({
        name: `n${i + 1}`,
        port: ports[size + i]!,
        args: [
          '--cluster_name',
          clusterName,
          '--cluster',
          `nats://127.0.0.1:${cp}`,
          '--routes',
          routes,
        ],
      }),
    ),
  );
  return {
    servers,
    urls: servers.map((s) => s.url),
    dispose: async () => {
      await Promise.all(servers.map((s) => s.dispose()));
    },
  };
}

/**
 * Waits until a new cluster places an R3 stream: JetStream answers only once a meta
 * leader is elected, and an R3 stream has 'no suitable peers for placement' until every
 * node has joined. Creates and deletes one stream to find out.
 */
export async function untilClusterPlacesR3(
  nc: NatsConnection,
  timeoutMs = 120_000,
): Promise<JetStreamManager> {
  const deadline = Date.now() + timeoutMs;
  const name = `READY_${randomUUID().slice(0, 8)}`;
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
      await jsm.streams.delete(name);
      return jsm;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Creates a declared topology with its streams, then its consumers, side by side: on a
 * cluster each R3 stream and consumer waits for its group to elect a leader (about
 * 0.5 s here), which applyTopology does one after another (16 s for Sluice's). Sluice
 * started afterwards finds it all in place.
 */
export async function createTopologyConcurrently(
  jsm: JetStreamManager,
  nc: NatsConnection,
  d: Declared,
): Promise<void> {
  // An add is idempotent, and on a loaded machine one may outlast the API's timeout while
  // its group elects a leader: try it again rather than fail the test's set-up.
  const again = <T>(f: () => Promise<T>): Promise<T> =>
    whileNatsRecovers(f, { deadlineMs: 120_000 });
  await Promise.all(d.streams.map((s) => again(() => jsm.streams.add(s.config))));
  await Promise.all(d.consumers.map((c) => again(() => jsm.consumers.add(c.stream, c.config))));
  await applyTopology(jsm, nc, { streams: [], consumers: [], buckets: d.buckets });
}
