import { SingleBar } from 'cli-progress';
import type { PublishedVersion } from './publish.js';

export interface WaitReport {
  searchable: number;
  failed: {
    documentId: string;
    collection: string;
    version: number;
    code: string;
    message: string;
  }[];
  /** Not searchable when the time was up. */
  pending: { documentId: string; collection: string; version: number; status: string }[];
  elapsedMs: number;
}

/**
 * Waits until every published version is searchable, through the HTTP API's
 * read-your-writes (GET /v1/documents/…?minVersion=&wait=), a few documents at a time.
 */
export async function waitSearchable(o: {
  url: string;
  key: string;
  versions: PublishedVersion[];
  timeoutMs: number;
  concurrency?: number;
  progress?: NodeJS.WriteStream;
}): Promise<WaitReport> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const report: WaitReport = { searchable: 0, failed: [], pending: [], elapsedMs: 0 };
  const bar = o.progress
    ? new SingleBar({
        format: ' searchable [{bar}] {value}/{total} | failed {failed}',
        stream: o.progress,
        hideCursor: true,
      })
    : undefined;
  bar?.start(o.versions.length, 0, { failed: 0 });
  const queue = [...o.versions];
  const one = async (v: PublishedVersion): Promise<void> => {
    for (;;) {
      const left = deadline - Date.now();
      const wait = Math.max(0, Math.min(30_000, left));
      const res = await fetch(
        `${o.url}/v1/documents/${encodeURIComponent(v.collection)}/${encodeURIComponent(v.documentId)}?minVersion=${v.version}&wait=${wait}ms`,
        { headers: { authorization: `Bearer ${o.key}` } },
      );
      const body = (await res.json().catch(() => ({}))) as {
        error?: { code: string; message: string; details?: { status?: string } };
      };
      if (res.ok) {
        report.searchable++;
        return;
      }
      const code = body.error?.code ?? `HTTP ${res.status}`;
      if (code === 'NOT_YET_INDEXED' && Date.now() < deadline) continue;
      if (code === 'NOT_YET_INDEXED')
        report.pending.push({ ...v, status: body.error?.details?.status ?? 'unknown' });
      else report.failed.push({ ...v, code, message: body.error?.message ?? '' });
      return;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency ?? 32, queue.length) }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        await one(v);
        bar?.update(report.searchable + report.failed.length + report.pending.length, {
          failed: report.failed.length,
        });
      }
    }),
  );
  bar?.stop();
  report.elapsedMs = Date.now() - started;
  return report;
}
