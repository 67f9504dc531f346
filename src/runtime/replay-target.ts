import type { StreamKey } from '../topology/index.js';
import type { BatchHandler } from './consumer.js';

/**
 * What a replay needs of a projection's owner: its tables, its streams, and its live
 * handler pointed at other tables. Each owner exports its own (projections/,
 * consumers/indexer/), so replay/ drives them without knowing their internals.
 */
export interface ReplayTarget<Name extends string = string> {
  name: Name;
  /** Live tables the replay rebuilds and swaps. */
  tables: string[];
  /** Streams it reads; the first is the primary one (--from-seq counts there). */
  streams: StreamKey[];
  /** The live consumers' handler for a stream, writing to the tables in `schema`. */
  handler(stream: StreamKey, schema: string): BatchHandler;
  /** Indexes the live tables may lack (HNSW of models that only the replay saw). */
  extraIndexes?(schema: string): Promise<string[]>;
  /** Bulk work on the loaded shadow tables before their indexes are built. */
  beforeIndexes?(schema: string): Promise<void>;
}
