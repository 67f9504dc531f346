import { SingleBar } from 'cli-progress';
import type { ErrorCode } from '../../errors/index.js';
import type { BatchSummary, Producer } from '../sdk/index.js';
import type { InputItem } from './read-inputs.js';

export interface Problem {
  origin: string;
  status: 'rejected' | 'failed';
  code: ErrorCode;
  message: string;
  pointer?: string;
}

export interface PublishReport extends BatchSummary {
  elapsedMs: number;
  eventsPerSecond: number;
  /** The first 1000 problems, in input order of their discovery. */
  problems: Problem[];
  /** With keepVersions: each accepted document's last version. */
  versions?: PublishedVersion[];
}

export interface RunPublishOptions {
  producer: Producer;
  inputs: AsyncIterable<InputItem>;
  /** Expected number of inputs, for the progress bar (undefined: unknown). */
  total?: number;
  /** Draw a progress bar on this stream (a TTY). */
  progress?: NodeJS.WriteStream;
  maxInFlight?: number;
  /** Keep each accepted document's last version (for --wait). */
  keepVersions?: boolean;
}

export interface PublishedVersion {
  tenant: string;
  collection: string;
  documentId: string;
  version: number;
}

const MAX_PROBLEMS = 1000;

/** Publishes everything the inputs yield, with progress, and reports what happened to each. */
export async function runPublish(o: RunPublishOptions): Promise<PublishReport> {
  const started = Date.now();
  const problems: Problem[] = [];
  const note = (p: Problem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const counts = { pre: 0 };
  const bar = o.progress
    ? new SingleBar({
        format:
          ' publishing [{bar}] {value}/{total} | {rate}/s | accepted {accepted} duplicate {duplicate} rejected {rejected} failed {failed}',
        stream: o.progress,
        hideCursor: true,
        etaBuffer: 200,
      })
    : undefined;
  const live = { accepted: 0, duplicate: 0, rejected: 0, failed: 0 };
  bar?.start(o.total ?? 0, 0, { ...live, rate: 0 });
  const tick = (): void => {
    const done = live.accepted + live.duplicate + live.rejected + live.failed;
    if (o.total === undefined || done > o.total) bar?.setTotal(done);
    bar?.update(done, {
      ...live,
      rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)),
    });
  };

  // Origins of events in flight, by batch index; entries leave as results arrive.
  const origins = new Map<number, string>();
  const refs = new Map<number, Omit<PublishedVersion, 'version'>>();
  const versions = new Map<string, PublishedVersion>();
  let index = 0;
  async function* events(): AsyncGenerator<unknown> {
    for await (const item of o.inputs) {
      if (item.error !== undefined) {
        counts.pre++;
        live.rejected++;
        note({
          origin: item.origin,
          status: 'rejected',
          code: item.error.startsWith('not valid JSON') ? 'JSON_INVALID' : 'REQUEST_INVALID',
          message: item.error,
        });
        tick();
        continue;
      }
      if (o.keepVersions) {
        const d = (item.event as { data?: Record<string, unknown> }).data;
        if (
          typeof d?.tenant === 'string' &&
          typeof d.collection === 'string' &&
          typeof d.documentId === 'string'
        )
          refs.set(index, { tenant: d.tenant, collection: d.collection, documentId: d.documentId });
      }
      origins.set(index++, item.origin);
      yield item.event;
    }
  }

  const summary = await o.producer.publishBatch(events(), {
    maxInFlight: o.maxInFlight ?? 256,
    onResult: (r) => {
      const origin = origins.get(r.index) ?? String(r.index);
      origins.delete(r.index);
      const ref = refs.get(r.index);
      refs.delete(r.index);
      if (ref && r.status === 'accepted' && r.seq !== undefined) {
        const k = JSON.stringify([ref.tenant, ref.collection, ref.documentId]);
        if ((versions.get(k)?.version ?? 0) < r.seq) versions.set(k, { ...ref, version: r.seq });
      }
      live[r.status]++;
      if ((r.status === 'rejected' || r.status === 'failed') && r.error) {
        note({
          origin,
          status: r.status,
          code: r.error.code,
          message: r.error.message,
          ...(r.error.pointer === undefined ? {} : { pointer: r.error.pointer }),
        });
      }
      tick();
    },
  });
  bar?.stop();
  const elapsedMs = Date.now() - started;
  const total = summary.total + counts.pre;
  return {
    ...summary,
    total,
    rejected: summary.rejected + counts.pre,
    elapsedMs,
    eventsPerSecond: Math.round((total / Math.max(1, elapsedMs)) * 1000),
    problems,
    ...(o.keepVersions ? { versions: [...versions.values()] } : {}),
  };
}

/** The human summary printed after `sluice publish`. */
export function formatReport(r: PublishReport): string {
  const lines = r.problems.map(
    (p) => `${p.status} ${p.origin}: [${p.code}]${p.pointer ? ` ${p.pointer}` : ''} ${p.message}`,
  );
  if (r.rejected + r.failed > r.problems.length)
    lines.push(`… and ${r.rejected + r.failed - r.problems.length} more`);
  lines.push(
    `published ${r.total} event(s) in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.eventsPerSecond}/s): ` +
      `${r.accepted} accepted, ${r.duplicate} duplicate, ${r.rejected} rejected, ${r.failed} failed`,
  );
  return `${lines.join('\n')}\n`;
}
