import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { applyTopology, type Declared } from '../../src/topology/index.js';
import { whileNatsRecovers } from '../../src/nats/index.js';
import { randomToken } from './names.js';
import { freePorts, startNatsServer, type NatsServerHandle } from './servers.js';

export interface NatsCluster {
  servers: NatsServerHandle[];
  urls: string[];
  /** The servers' names (n1…): the names stream and consumer infos give. */
  names: string[];
  clusterName: string;
  /** The server named `name` (a stream's leader, say). */
  server(name: string): NatsServerHandle;
  /**
   * Starts a stopped or killed node again, then waits until it answers as itself and is
   * routed to every other node (see untilNodeJoined), 60 s unless told.
   */
  restart(server: NatsServerHandle, timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nats-servers on free ports (R3 streams need three), each
 * answering as itself and routed to all the others, that has placed an R3 stream, before
 * this returns.
 *
 * The ports are free when chosen, but another test file may bind one before its server
 * does; a server that cannot bind its cluster port exits only after its client port has
 * opened (which is all startNatsServer waits for), and a route may then reach a stranger.
 * And a cluster whose nodes have all joined may still not place an R3 stream: in one CI
 * run on a loaded machine, 120 s of 'no suitable peers for placement' (the metadata
 * group knew fewer than three peers). Such a cluster is disposed of and started again on
 * new ports; the last failure's message carries every server's last log lines. Servers
 * already started are disposed of whatever fails.
 */
export async function startNatsCluster(size = 3, attempts = 3): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    let cluster: NatsCluster | undefined;
    try {
      // Disposes of the servers it started when one of them fails to.
      cluster = await tryStartNatsCluster(size);
      const started = cluster;
      // Joined in well under a second here, a few on a loaded machine.
      await Promise.all(started.servers.map((s) => untilNodeJoined(started, s, 30_000)));
      // Placed in about a second here: a cluster that has not in 45 s is not waited on
      // longer, but started again.
      await untilPlaces(started, size, 45_000);
      return started;
    } catch (err) {
      const logs = cluster?.servers
        .map((s, i) => `--- ${cluster!.names[i]} (${s.url}):\n${s.logTail()}`)
        .join('\n');
      await cluster?.dispose();
      if (attempt >= attempts)
        throw new Error(
          `no ${size}-node NATS cluster after ${attempts} tries: ${String(err)}` +
            (logs ? `\n${logs}` : ''),
          { cause: err },
        );
    }
  }
}

/** Waits until `cluster` places a stream of `replicas` (see untilClusterPlacesR3). */
async function untilPlaces(cluster: NatsCluster, replicas: number, timeoutMs: number) {
  const nc = await connect({ servers: cluster.urls, timeout: 5_000, noAsyncTraces: true });
  try {
    await untilClusterPlacesR3(nc, timeoutMs, replicas);
  } finally {
    await nc.close().catch(() => {});
  }
}

async function tryStartNatsCluster(size: number): Promise<NatsCluster> {
  // Client and cluster ports chosen together: distinct, which separate calls are not.
  const ports = await freePorts(2 * size);
  const clusterPorts = ports.slice(0, size);
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  // A name of its own: two test files' clusters side by side must never take each other's
  // nodes for their own (the server names n1…n3 repeat), should a route reach the other.
  const clusterName = `sluice-test-${randomToken(6)}`;
  const names = clusterPorts.map((_, i) => `n${i + 1}`);
  const started = await Promise.allSettled(
    clusterPorts.map((cp, i) =>
      startNatsServer({
        name: names[i],
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
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const dispose = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.dispose()));
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  const cluster: NatsCluster = {
    servers,
    urls: servers.map((s) => s.url),
    names,
    clusterName,
    server: (name) => {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`no server named '${name}' in cluster ${clusterName}`);
      return servers[i]!;
    },
    restart: async (server, timeoutMs = 60_000) => {
      await server.start();
      await untilNodeJoined(cluster, server, timeoutMs);
    },
    dispose,
  };
  return cluster;
}

/**
 * Waits until `server` answers on its port as itself (its name, in this cluster: not
 * some other server that took the port) and is routed to every other node of the
 * cluster (their client URLs, which routes gossip, in its INFO). An open port alone
 * says neither: a node that cannot bind its cluster port exits after opening it.
 */
export async function untilNodeJoined(
  cluster: Pick<NatsCluster, 'servers' | 'names' | 'clusterName'>,
  server: NatsServerHandle,
  timeoutMs = 60_000,
): Promise<void> {
  const name = cluster.names[cluster.servers.indexOf(server)];
  if (name === undefined) throw new Error(`${server.url} is not a node of ${cluster.clusterName}`);
  const want = cluster.servers.map((s) => `127.0.0.1:${s.port}`);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const nc = await connect({
      servers: server.url,
      reconnect: false,
      timeout: 5_000,
      ignoreClusterUpdates: true,
    }).catch((err: unknown) => {
      last = `cannot connect: ${String(err)}`;
      return undefined;
    });
    if (nc) {
      const info = nc.info;
      await nc.close().catch(() => {});
      const urls = info?.connect_urls ?? [];
      if (info?.server_name !== name || info?.cluster !== cluster.clusterName)
        last = `${server.url} is ${info?.server_name ?? '?'} of cluster ${info?.cluster ?? '?'}`;
      else if (want.every((u) => urls.includes(u))) return;
      else last = `${name} is routed to ${urls.join(', ') || 'nobody'}`;
    }
    if (Date.now() > deadline)
      throw new Error(`${name} of cluster ${cluster.clusterName} did not join: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits until a cluster places an R3 stream (`replicas` of them): JetStream answers only
 * once a meta leader is elected, and an R3 stream has 'no suitable peers for placement'
 * until the metadata group knows every node. Creates and deletes one stream to find
 * out. startNatsCluster has waited for this; a test waits again after killing a node.
 */
export async function untilClusterPlacesR3(
  nc: NatsConnection,
  timeoutMs = 120_000,
  replicas = 3,
): Promise<JetStreamManager> {
  const deadline = Date.now() + timeoutMs;
  const name = `READY_${randomUUID().slice(0, 8)}`;
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: replicas });
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

/**
 * Waits until every stream in `names` (all the account's by default) has a leader and
 * each of its other replicas has been current at least once since this was called (once
 * caught up, a replica stays in step under load; all streams current in one same instant
 * may take long to happen), 120 s unless told. A node that is down is not reported
 * offline for minutes, only as not current: after a node's restart, this says it has
 * caught up on every stream before a test goes on. Right after a restart the JetStream
 * API may time out or answer 503: such answers count as "not yet".
 */
export async function untilReplicasCurrent(
  jsm: JetStreamManager,
  names?: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending: Map<string, string> | undefined;
  let last = 'no answer yet';
  for (;;) {
    if (!pending) {
      const all: string[] = [];
      try {
        if (names) all.push(...names);
        else for await (const n of jsm.streams.names()) all.push(n);
        pending = new Map(all.map((n) => [n, 'no answer yet']));
      } catch (err) {
        last = `listing the streams: ${String(err)}`;
      }
    }
    for (const name of pending?.keys() ?? []) {
      const state = await jsm.streams.info(name).then(
        (info) => {
          const c = info.cluster;
          const replicas = c?.replicas ?? [];
          if (!c?.leader) return 'no leader';
          const behind = replicas.filter((r) => !r.current || r.offline);
          if (replicas.length === info.config.num_replicas - 1 && behind.length === 0) return '';
          return `leader ${c.leader}, ${replicas.map((r) => `${r.name}${r.current ? '' : ` ${r.lag ?? '?'} behind`}${r.offline ? ' offline' : ''}`).join(', ')}`;
        },
        (err: unknown) => String(err),
      );
      if (state === '') pending!.delete(name);
      else pending!.set(name, state);
    }
    if (pending?.size === 0) return;
    if (Date.now() > deadline) {
      const states = pending ? [...pending].map(([n, s]) => `${n} (${s})`).join('; ') : last;
      throw new Error(`replicas not current after ${timeoutMs / 1000} s: ${states}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
