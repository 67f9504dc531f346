import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fromMessage } from '../contracts/index.js';
import { SluiceError } from '../errors/index.js';
import { Subjects, streamName } from '../topology/index.js';
import { appendHistory, letterHeaders, readLetter, type AttemptRecord } from '../runtime/index.js';

import type { PipelinePublisher } from '../runtime/index.js';

export interface DeadLetterSummary {
  /** Sequence in the dead-letter stream: the id to show or redrive it by. */
  id: number;
  consumer: string;
  /** Where the message was first published, and its sequence there. */
  stream: string;
  subject: string;
  seq: number;
  code: string;
  message: string;
  attempts: number;
  /** Times it was redriven before. */
  generation: number;
  failedAt: string;
  /** The tenant whose subject it was published on, when it was a document subject. */
  tenant?: string;
  /** CloudEvents type and document, when the message is readable. */
  type?: string;
  document?: { tenant: string; collection: string; documentId: string };
}

export interface DeadLetter extends DeadLetterSummary {
  history: AttemptRecord[];
  /** The message's own headers (its ce-* attributes). */
  headers: Record<string, string>;
  /** The payload: parsed JSON when it is JSON, else base64. */
  data: unknown;
  dataEncoding: 'json' | 'base64';
}

/**
 * Whose letters a caller may see. A tenant sees a letter only when it was published on
 * that tenant's subject and its payload, if readable, names no other tenant; letters of
 * no tenant (a foreign client's unreadable message on a non-document subject) are the
 * operator's alone.
 */
export type LetterScope = { tenant: string } | 'installation';

export interface ListOptions {
  scope?: LetterScope;
  consumer?: string;
  /** Only letters that failed with this error code. */
  code?: string;
  /** Only letters of this tenant (within the scope). */
  tenant?: string;
  /** Only letters with an id above this (paging). */
  after?: number;
  /** @defaultValue 100 */
  limit?: number;
}

/** Letters examined per list call at most, so a tenant's page is bounded work. */
const SCAN_LIMIT = 10_000;

export interface RedriveSelection {
  scope?: LetterScope;
  ids?: number[];
  consumer?: string;
  all?: boolean;
}

export interface RedriveResult {
  redriven: number[];
  failed: { id: number; reason: string }[];
}

export interface RedriveProgress {
  redriven: number;
  failed: number;
  /** Letters examined so far (a tenant's redrive skips other tenants'). */
  scanned: number;
}

function visible(s: DeadLetterSummary, scope: LetterScope | undefined): boolean {
  if (scope === undefined || scope === 'installation') return true;
  return (
    s.tenant === scope.tenant && (s.document === undefined || s.document.tenant === scope.tenant)
  );
}

/**
 * Dead letters, for the CLI (`sluice dlq`) and the HTTP API alike: list, inspect, and
 * redrive — back to the consumer that gave up on them (through its retry subject, so
 * no other consumer sees the message twice), with a fresh set of attempts.
 */
export class DeadLetters {
  private readonly subjects: Subjects;
  private readonly stream: string;
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    namespace: string,
    private readonly publisher: PipelinePublisher,
  ) {
    this.subjects = new Subjects(namespace);
    this.stream = streamName(namespace, 'dlq');
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= jetstreamManager(this.nc);
    return this.jsm;
  }

  private filter(consumer?: string): string {
    return consumer === undefined ? this.subjects.all('dlq') : this.subjects.dlq(consumer);
  }

  /**
   * Letters in id order; `next` is the `after` for the following page. A page examines
   * at most 10,000 letters: a tenant's page can come back short with a `next`.
   */
  async list(o: ListOptions = {}): Promise<{ items: DeadLetterSummary[]; next?: number }> {
    const jsm = await this.manager();
    const limit = Math.max(1, Math.min(o.limit ?? 100, 1000));
    const items: DeadLetterSummary[] = [];
    let seq = (o.after ?? 0) + 1;
    for (let scanned = 0; items.length < limit && scanned < SCAN_LIMIT; scanned++) {
      const m = await jsm.direct
        .getMessage(this.stream, { next_by_subj: this.filter(o.consumer), seq })
        .catch(notFoundAsNull);
      if (m === null) return { items };
      const s = summarize(m, this.subjects);
      if (
        s &&
        visible(s, o.scope) &&
        (o.code === undefined || s.code === o.code) &&
        (o.tenant === undefined || s.tenant === o.tenant)
      )
        items.push(s);
      seq = m.seq + 1;
    }
    return { items, next: seq - 1 };
  }

  /** One letter; undefined when there is none, or the scope may not see it. */
  async show(id: number, scope?: LetterScope): Promise<DeadLetter | undefined> {
    const jsm = await this.manager();
    const m = await jsm.direct.getMessage(this.stream, { seq: id }).catch(notFoundAsNull);
    if (m === null) return undefined;
    const s = summarize(m, this.subjects);
    if (!s || !visible(s, scope)) return undefined;
    const headers: Record<string, string> = {};
    for (const k of m.header.keys()) if (!/^(sluice|nats)-/i.test(k)) headers[k] = m.header.get(k);
    let data: unknown;
    let dataEncoding: 'json' | 'base64' = 'json';
    try {
      data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(m.data));
    } catch {
      data = Buffer.from(m.data).toString('base64');
      dataEncoding = 'base64';
    }
    return { ...s, history: readLetter(m.header)!.history, headers, data, dataEncoding };
  }

  /** How many letters wait, per consumer (for /metrics and `sluice dlq ls`). */
  async depth(): Promise<Record<string, number>> {
    const jsm = await this.manager();
    const info = await jsm.streams.info(this.stream, { subjects_filter: this.filter() });
    const out: Record<string, number> = {};
    for (const [subject, n] of Object.entries(info.state.subjects ?? {}))
      out[subject.split('.').pop()!] = n;
    return out;
  }

  /**
   * Sends letters back to their consumers' retry subjects, due now, with their attempt
   * count reset, then deletes them here. Selected by ids, by consumer, or all, within
   * the scope. Letters are read and sent one page at a time, so any number of them
   * costs bounded memory; `onProgress` hears after each page, and `signal` stops it
   * between letters.
   */
  async redrive(
    sel: RedriveSelection,
    o: { onProgress?: (p: RedriveProgress) => Promise<void> | void; signal?: AbortSignal } = {},
  ): Promise<RedriveResult> {
    if (!sel.all && sel.consumer === undefined && (sel.ids === undefined || sel.ids.length === 0)) {
      throw new SluiceError('REQUEST_INVALID', 'say what to redrive: ids, a consumer, or all');
    }
    const result: RedriveResult = { redriven: [], failed: [] };
    const progress = { redriven: 0, failed: 0, scanned: 0 };
    const report = async (): Promise<void> => {
      progress.redriven = result.redriven.length;
      progress.failed = result.failed.length;
      await o.onProgress?.({ ...progress });
    };
    if (sel.ids && sel.ids.length > 0) {
      for (const id of sel.ids) {
        if (o.signal?.aborted) break;
        await this.redriveOne(id, sel, result);
      }
      progress.scanned = sel.ids.length;
      await report();
      return result;
    }
    for (let after = 0; ;) {
      if (o.signal?.aborted) break;
      const page = await this.list({
        ...(sel.scope === undefined ? {} : { scope: sel.scope }),
        ...(sel.consumer === undefined ? {} : { consumer: sel.consumer }),
        after,
        limit: 1000,
      });
      for (const item of page.items) {
        if (o.signal?.aborted) break;
        await this.redriveOne(item.id, sel, result);
      }
      progress.scanned = page.next ?? progress.scanned + page.items.length;
      await report();
      if (page.next === undefined) break;
      after = page.next;
    }
    return result;
  }

  private async redriveOne(
    id: number,
    sel: RedriveSelection,
    result: RedriveResult,
  ): Promise<void> {
    const jsm = await this.manager();
    const m = await jsm.direct.getMessage(this.stream, { seq: id }).catch(notFoundAsNull);
    const letter = m && readLetter(m.header);
    const summary = m && summarize(m, this.subjects);
    if (!m || !letter || !summary || !visible(summary, sel.scope)) {
      result.failed.push({ id, reason: 'no such dead letter' });
      return;
    }
    if (sel.consumer !== undefined && letter.consumer !== sel.consumer) {
      result.failed.push({ id, reason: `belongs to consumer ${letter.consumer}` });
      return;
    }
    const generation = (letter.generation ?? 0) + 1;
    await this.publisher.raw(
      this.subjects.retry(letter.consumer),
      m.data,
      letterHeaders(m.header, {
        ...letter,
        attempt: 0,
        generation,
        due: Date.now(),
        history: appendHistory(letter.history, {
          attempt: 0,
          at: new Date().toISOString(),
          code: 'REDRIVEN',
          message: `redriven from dead letter ${id} (${letter.code ?? 'unknown'})`,
        }),
      }),
      `redrive:${this.stream}:${id}`,
    );
    await jsm.streams.deleteMessage(this.stream, id, false);
    result.redriven.push(id);
  }
}

function notFoundAsNull(err: unknown): null {
  if (/no message found|not found|10037/i.test(String((err as Error)?.message ?? err))) return null;
  throw err;
}

function summarize(m: StoredMsg, subjects: Subjects): DeadLetterSummary | undefined {
  const letter = readLetter(m.header);
  if (!letter) return undefined;
  const s: DeadLetterSummary = {
    id: m.seq,
    consumer: letter.consumer,
    stream: letter.stream,
    subject: letter.subject,
    seq: letter.seq,
    code: letter.code ?? 'UNKNOWN',
    message: letter.message ?? '',
    attempts: letter.attempt,
    generation: letter.generation ?? 0,
    failedAt: letter.failedAt ?? m.timestamp,
  };
  const tenant = subjects.parse(letter.subject)?.tenant;
  if (tenant !== undefined) s.tenant = tenant;
  try {
    const event = fromMessage({ headers: m.header, data: m.data });
    if (typeof event.type === 'string') s.type = event.type;
    const d = event.data as Record<string, unknown> | undefined;
    if (
      d &&
      typeof d.tenant === 'string' &&
      typeof d.collection === 'string' &&
      typeof d.documentId === 'string'
    ) {
      s.document = { tenant: d.tenant, collection: d.collection, documentId: d.documentId };
    }
  } catch {
    // Unreadable payloads (often the reason they are here) are still listed.
  }
  return s;
}
