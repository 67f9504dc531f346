import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fromMessage } from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import { Subjects, streamName } from '../../topology/index.js';
import { appendHistory, letterHeaders, readLetter, type AttemptRecord } from '../runtime/letter.js';

import type { PipelinePublisher } from '../runtime/publisher.js';

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

export interface ListOptions {
  consumer?: string;
  /** Only letters with an id above this (paging). */
  after?: number;
  /** @defaultValue 100 */
  limit?: number;
}

export interface RedriveSelection {
  ids?: number[];
  consumer?: string;
  all?: boolean;
}

export interface RedriveResult {
  redriven: number[];
  failed: { id: number; reason: string }[];
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

  /** Letters in id order; `next` is the `after` for the following page. */
  async list(o: ListOptions = {}): Promise<{ items: DeadLetterSummary[]; next?: number }> {
    const jsm = await this.manager();
    const limit = Math.max(1, Math.min(o.limit ?? 100, 1000));
    const items: DeadLetterSummary[] = [];
    let seq = (o.after ?? 0) + 1;
    while (items.length < limit) {
      const m = await jsm.direct
        .getMessage(this.stream, { next_by_subj: this.filter(o.consumer), seq })
        .catch(notFoundAsNull);
      if (m === null) return { items };
      const s = summarize(m);
      if (s) items.push(s);
      seq = m.seq + 1;
    }
    return { items, next: items[items.length - 1]!.id };
  }

  async show(id: number): Promise<DeadLetter | undefined> {
    const jsm = await this.manager();
    const m = await jsm.direct.getMessage(this.stream, { seq: id }).catch(notFoundAsNull);
    if (m === null) return undefined;
    const s = summarize(m);
    if (!s) return undefined;
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
   * count reset, then deletes them here. Selected by ids, by consumer, or all.
   */
  async redrive(sel: RedriveSelection): Promise<RedriveResult> {
    if (!sel.all && sel.consumer === undefined && (sel.ids === undefined || sel.ids.length === 0)) {
      throw new SluiceError('REQUEST_INVALID', 'say what to redrive: ids, a consumer, or all');
    }
    const ids: number[] = [];
    if (sel.ids && sel.ids.length > 0) ids.push(...sel.ids);
    else {
      for (let after = 0; ;) {
        const page = await this.list({
          ...(sel.consumer === undefined ? {} : { consumer: sel.consumer }),
          after,
          limit: 1000,
        });
        ids.push(...page.items.map((i) => i.id));
        if (page.next === undefined) break;
        after = page.next;
      }
    }
    const jsm = await this.manager();
    const result: RedriveResult = { redriven: [], failed: [] };
    for (const id of ids) {
      const m = await jsm.direct.getMessage(this.stream, { seq: id }).catch(notFoundAsNull);
      const letter = m && readLetter(m.header);
      if (!m || !letter) {
        result.failed.push({ id, reason: 'no such dead letter' });
        continue;
      }
      if (sel.consumer !== undefined && letter.consumer !== sel.consumer) {
        result.failed.push({ id, reason: `belongs to consumer ${letter.consumer}` });
        continue;
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
    return result;
  }
}

function notFoundAsNull(err: unknown): null {
  if (/no message found|not found|10037/i.test(String((err as Error)?.message ?? err))) return null;
  throw err;
}

function summarize(m: StoredMsg): DeadLetterSummary | undefined {
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
