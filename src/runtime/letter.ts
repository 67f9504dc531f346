import { MsgHdrsImpl, type MsgHdrs } from '@nats-io/transport-node';
import { decodeHeaderValue, encodeHeaderValue } from '../contracts/index.js';

/**
 * Headers of a parked (retry) or dead message. The original's own headers (its ce-*
 * attributes) travel along; NATS's (Nats-Msg-Id, Nats-Expected-*) do not, or the copy
 * would be refused or deduplicated against the original.
 */
export const H = {
  consumer: 'Sluice-Consumer',
  stream: 'Sluice-Original-Stream',
  subject: 'Sluice-Original-Subject',
  seq: 'Sluice-Original-Seq',
  attempt: 'Sluice-Attempt',
  generation: 'Sluice-Generation',
  due: 'Sluice-Due',
  history: 'Sluice-History',
  code: 'Sluice-Error-Code',
  message: 'Sluice-Error-Message',
  failedAt: 'Sluice-Failed-At',
} as const;

export interface AttemptRecord {
  attempt: number;
  at: string;
  code: string;
  message: string;
}

export interface Letter {
  consumer: string;
  stream: string;
  subject: string;
  seq: number;
  /** Attempts made so far. */
  attempt: number;
  /** Times this message was redriven from the dead-letter stream. */
  generation?: number;
  history: AttemptRecord[];
  /** Retry only: when the next attempt is due (epoch ms). */
  due?: number;
  /** Dead letters only: the last error. */
  code?: string;
  message?: string;
  failedAt?: string;
}

const MAX_HISTORY = 10;

export function appendHistory(history: AttemptRecord[], record: AttemptRecord): AttemptRecord[] {
  return [...history, { ...record, message: record.message.slice(0, 300) }].slice(-MAX_HISTORY);
}

/** Headers for a copy of a message: its non-NATS headers plus the letter's. */
export function letterHeaders(original: MsgHdrs | undefined, letter: Letter): MsgHdrs {
  const h = new MsgHdrsImpl();
  for (const key of original?.keys() ?? []) {
    if (/^nats-/i.test(key) || /^sluice-/i.test(key)) continue;
    h.headers.set(key, original!.values(key));
  }
  const put = (k: string, v: string | number | undefined): void => {
    if (v !== undefined) h.headers.set(k, [encodeHeaderValue(String(v))]);
  };
  put(H.consumer, letter.consumer);
  put(H.stream, letter.stream);
  put(H.subject, letter.subject);
  put(H.seq, letter.seq);
  put(H.attempt, letter.attempt);
  put(H.generation, letter.generation);
  put(H.due, letter.due);
  put(H.history, JSON.stringify(letter.history));
  put(H.code, letter.code);
  put(H.message, letter.message?.slice(0, 1000));
  put(H.failedAt, letter.failedAt);
  return h;
}

/** The letter a parked or dead message carries; undefined when it has none. */
export function readLetter(headers: MsgHdrs | undefined): Letter | undefined {
  const get = (k: string): string | undefined => {
    const v = headers?.get(k);
    return v ? decodeHeaderValue(v) : undefined;
  };
  const consumer = get(H.consumer);
  const stream = get(H.stream);
  const subject = get(H.subject);
  const seq = Number(get(H.seq));
  if (!consumer || !stream || !subject || !Number.isInteger(seq)) return undefined;
  let history: AttemptRecord[] = [];
  try {
    history = JSON.parse(get(H.history) ?? '[]') as AttemptRecord[];
  } catch {
    history = [];
  }
  const due = get(H.due);
  const code = get(H.code);
  const message = get(H.message);
  const failedAt = get(H.failedAt);
  return {
    consumer,
    stream,
    subject,
    seq,
    attempt: Number(get(H.attempt) ?? 0),
    generation: Number(get(H.generation) ?? 0),

    history,
    ...(due === undefined ? {} : { due: Number(due) }),
    ...(code === undefined ? {} : { code }),
    ...(message === undefined ? {} : { message }),
    ...(failedAt === undefined ? {} : { failedAt }),
  };
}
