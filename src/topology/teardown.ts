import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { whileNatsRecovers } from '../nats/index.js';
import { bodiesBucket, processesBucket } from './declare.js';

/**
 * Deletes every stream of a namespace (and its bodies and processes buckets), with their consumers and
 * messages: the end of a test's or a benchmark's own installation. Returns how many. A
 * cluster that is electing leaders answers "temporarily unavailable" for a while: asked
 * again until it recovers.
 */
export async function deleteNamespace(nc: NatsConnection, namespace: string): Promise<number> {
  const jsm = await whileNatsRecovers(() => jetstreamManager(nc));
  const prefix = `${namespace.toUpperCase()}_`;
  const names: string[] = [];
  for await (const name of jsm.streams.names())
    if (
      name.startsWith(prefix) ||
      name === `OBJ_${bodiesBucket(namespace)}` ||
      name === `KV_${processesBucket(namespace)}`
    )
      names.push(name);
  for (const name of names)
    await whileNatsRecovers(() =>
      // A delete that timed out may have happened: not found is done.
      jsm.streams.delete(name).catch((err: unknown) => {
        if (/not found/i.test(String(err))) return true;
        throw err;
      }),
    );
  return names.length;
}
