import { bytes, duration, int } from './options.js';
import { opt } from './option-spec.js';
import { usableCores } from '../cores.js';

/** Search: how queries wait for their embedding and how deep the indexes are read. */
export const searchOptions = {
  searchQueue: opt({
    env: 'SLUICE_SEARCH_QUEUE',
    default: '64',
    parse: int(1, 100_000),
    doc: 'Searches that may wait at once for their query to be embedded, per model; more are answered 503 SEARCH_OVERLOADED.',
  }),
  searchEmbedTimeout: opt({
    env: 'SLUICE_SEARCH_EMBED_TIMEOUT',
    default: '5s',
    parse: duration,
    doc: 'How long a search waits for its query to be embedded before it is answered 503 SEARCH_OVERLOADED.',
  }),
  searchConnections: opt({
    env: 'SLUICE_SEARCH_CONNECTIONS',
    default: '0',
    parse: int(0, 1000),
    doc: "PostgreSQL connections the API's searches and reads share (0: one per core the process may use, its cgroup CPU limit included, at least 2 and at most 10). More than PostgreSQL's cores makes every query slower; see docs/search.md.",
  }),
  searchEf: opt({
    env: 'SLUICE_SEARCH_EF',
    default: '100',
    parse: int(10, 1000),
    doc: 'hnsw.ef_search of search queries: higher finds more true neighbours, slower.',
  }),
  keywordDepth: opt({
    env: 'SLUICE_KEYWORD_DEPTH',
    default: '1000',
    parse: int(10, 10_000_000),
    doc: 'Postings per query term that keyword search reads in its first round, best first; it reads 4× more per round until no unread posting can enter the top k, so results are exact BM25 whatever the value. See docs/search.md.',
  }),
  keywordMemory: opt({
    env: 'SLUICE_KEYWORD_MEMORY',
    default: '256M',
    parse: bytes,
    doc: 'Memory the API may hold keyword posting lists in (checked against PostgreSQL on every query, so results stay exact); 0 leaves keyword search to SQL alone. See docs/search.md.',
  }),
};

/**
 * Connections of the API's search pool: SLUICE_SEARCH_CONNECTIONS, or for 0 one per
 * usable core, at least 2 (hybrid's two sides at once) and at most 10 (postgres.js's own
 * default). bench:search sizes its direct runs' pool with it too.
 */
export function searchConnections(configured: number): number {
  return configured || Math.min(10, Math.max(2, usableCores()));
}
