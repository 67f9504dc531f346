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
  const servers = await Promise.all(
    clusterPorts.map((cp, i) =>
      startNatsServer({
        name: `n${i + 1}`,
        port: ports[size + i]!,
        args: [
          '--cluster_name',
          'sluice-test',
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
