import type { NatsConnection } from '@nats-io/transport-node';
import { indexReplayTarget } from '../consumers/indexer/index.js';
import type { Sql } from '../db/index.js';
import { collectionsReplayTarget, documentsReplayTarget } from '../projections/index.js';
import type { ReplayTarget as Target } from '../runtime/index.js';

export const replayables = ['documents', 'collections', 'index'] as const;
export type Replayable = (typeof replayables)[number];

export type ReplayTarget = Target<Replayable>;

/**
 * What can be replayed, each exported by its owner with the same handlers its live
 * consumers use: a replay is the live consumer pointed at other tables, with a stop
 * condition.
 */
export function replayTarget(
  name: Replayable,
  sql: Sql,
  nc: NatsConnection,
  namespace: string,
): ReplayTarget {
  switch (name) {
    case 'documents':
      return documentsReplayTarget(sql, namespace);
    case 'collections':
      return collectionsReplayTarget(sql, namespace);
    case 'index':
      return indexReplayTarget(sql, nc, namespace);
  }
}
