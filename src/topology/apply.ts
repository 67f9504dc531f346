import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { SluiceError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { DeclaredConsumer, DeclaredStream } from './declare.js';

export type TopologyState = 'ok' | 'missing' | 'differs' | 'created' | 'updated' | 'undeclared';

export interface TopologyRow {
  kind: 'stream' | 'consumer' | 'bucket';
  name: string;
  state: TopologyState;
  /** "field: actual → declared" for each setting that differs. */
  diffs: string[];
}

export interface Declared {
  streams: DeclaredStream[];
  consumers: DeclaredConsumer[];
  /** maxAgeMs: objects older than this expire (0 or absent: kept). */
  buckets: { name: string; replicas: number; maxAgeMs?: number }[];
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10059 || err.code === 10014);
}

const show = (v: unknown): string => JSON.stringify(v ?? null);

const filtersOf = (config: object): string[] => {
  const c = config as { filter_subject?: string; filter_subjects?: string[] };
  return c.filter_subjects?.length ? c.filter_subjects : c.filter_subject ? [c.filter_subject] : [];
};

/**
 * Declared settings whose live value differs. Only declared keys count; server defaults
 * do not. A consumer's filter always counts (declaring none means the whole stream).
 */
function diff(declared: object, actual: object): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(declared)) {
    if (want === undefined || key === 'filter_subject' || key === 'filter_subjects') continue;
    let have = (actual as Record<string, unknown>)[key];
    if (key === 'metadata' && typeof have === 'object' && have !== null) {
      // The server adds its own _nats.* keys; compare ours only.
      have = Object.fromEntries(
        Object.entries(have).filter(([k]) => Object.hasOwn(want as object, k)),
      );
    }
    if (show(have) !== show(want)) out.push(`${key}: ${show(have)} → ${show(want)}`);
  }
  if ('durable_name' in declared) {
    const want = filtersOf(declared);
    const have = filtersOf(actual);
    if (show(have) !== show(want)) out.push(`filter: ${show(have)} → ${show(want)}`);
  }
  return out;
}

/** Compares the declared topology with what exists, changing nothing. */
export async function inspectTopology(jsm: JetStreamManager, d: Declared): Promise<TopologyRow[]> {
  const rows: TopologyRow[] = [];
  for (const s of d.streams) {
    try {
      const info = await jsm.streams.info(s.config.name);
      const diffs = diff(s.config, info.config);
      rows.push({
        kind: 'stream',
        name: s.config.name,
        state: diffs.length ? 'differs' : 'ok',
        diffs,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      rows.push({ kind: 'stream', name: s.config.name, state: 'missing', diffs: [] });
    }
  }
  for (const c of d.consumers) {
    const name = `${c.stream}/${c.config.durable_name}`;
    try {
      const info = await jsm.consumers.info(c.stream, c.config.durable_name);
      const diffs = diff(c.config, info.config);
      rows.push({ kind: 'consumer', name, state: diffs.length ? 'differs' : 'ok', diffs });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      rows.push({ kind: 'consumer', name, state: 'missing', diffs: [] });
    }
  }
  // Consumers on our streams that nothing declares (a retired model's embedder, say).
  const declared = new Set(d.consumers.map((c) => `${c.stream}/${c.config.durable_name}`));
  for (const s of d.streams) {
    if (rows.find((r) => r.name === s.config.name)?.state === 'missing') continue;
    for await (const ci of jsm.consumers.list(s.config.name)) {
      const name = `${s.config.name}/${ci.name}`;
      if (!declared.has(name) && ci.config.durable_name)
        rows.push({ kind: 'consumer', name, state: 'undeclared', diffs: [] });
    }
  }
  for (const b of d.buckets) {
    try {
      await jsm.streams.info(`OBJ_${b.name}`);
      rows.push({ kind: 'bucket', name: b.name, state: 'ok', diffs: [] });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      rows.push({ kind: 'bucket', name: b.name, state: 'missing', diffs: [] });
    }
  }
  return rows;
}

/**
 * Creates what is missing and updates what differs, idempotently: a second run changes
 * nothing. A setting the server cannot change in place (storage, retention) is a
 * TOPOLOGY_CONFLICT that names the stream and the setting.
 */
export async function applyTopology(
  jsm: JetStreamManager,
  nc: NatsConnection,
  d: Declared,
  log?: Logger,
): Promise<TopologyRow[]> {
  const before = await inspectTopology(jsm, d);
  const rows: TopologyRow[] = [];
  for (const row of before) {
    if (row.state === 'ok' || row.state === 'undeclared') {
      rows.push(row);
      continue;
    }
    try {
      if (row.kind === 'stream') {
        const s = d.streams.find((x) => x.config.name === row.name)!;
        if (row.state === 'missing') await jsm.streams.add(s.config);
        else await jsm.streams.update(s.config.name, s.config);
      } else if (row.kind === 'consumer') {
        const c = d.consumers.find((x) => `${x.stream}/${x.config.durable_name}` === row.name)!;
        if (row.state === 'missing') await jsm.consumers.add(c.stream, c.config);
        // update() merges into the live config: name both filter keys so that an old one goes.
        else
          await jsm.consumers.update(c.stream, c.config.durable_name, {
            filter_subject: undefined,
            filter_subjects: undefined,
            ...c.config,
          });
      } else {
        const b = d.buckets.find((x) => x.name === row.name)!;
        await new Objm(nc).create(b.name, {
          replicas: b.replicas,
          ...(b.maxAgeMs ? { ttl: b.maxAgeMs * 1_000_000 } : {}),
        });
      }
    } catch (err) {
      throw new SluiceError(
        'TOPOLOGY_CONFLICT',
        `cannot ${row.state === 'missing' ? 'create' : 'update'} ${row.kind} ${row.name}` +
          `${row.diffs.length ? ` (${row.diffs.join('; ')})` : ''}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const state = row.state === 'missing' ? 'created' : 'updated';
    log?.info({ kind: row.kind, name: row.name, diffs: row.diffs }, `${row.kind} ${state}`);
    rows.push({ ...row, state });
  }
  return rows;
}
