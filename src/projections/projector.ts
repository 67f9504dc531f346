import { createHash } from 'node:crypto';
import {
  DurableConsumer,
  type BatchHandler,
  type Delivery,
  type RuntimeDeps,
} from '../runtime/index.js';
import type { SluiceEvent } from '../contracts/index.js';
import { decodeDocumentEvent, decodePipelineEvent } from '../runtime/index.js';
import { isSluiceError } from '../errors/index.js';
import { streamName, type Subjects } from '../topology/index.js';
import type { CollectionsStore } from './collections/store.js';
import type { CollectionInput } from './collections/fold.js';
import type { DocInput } from './documents/fold.js';
import type { DocumentsStore } from './documents/store.js';
import type { DocKey } from './rows.js';

/**
 * A projection's view of one stream: how a message becomes an input (undefined: not
 * for this projection; a throw: a bad message, dead-lettered, except an invalid event
 * of the events stream, which the chunker dead-letters) and how a batch of
 * inputs is applied with the checkpoint.
 */
export interface ProjectionSource<I> {
  stream: 'events' | 'status';
  decode(d: Delivery): I | undefined;
  apply(items: I[], checkpoint: { stream: string; seq: number }): Promise<void>;
}

/** One transaction per batch; a bad message fails alone, a failing write fails the batch. */
export function projectionHandler<I>(
  source: ProjectionSource<I>,
  streamName: string,
): BatchHandler {
  return async (batch) => {
    const results: unknown[] = new Array<unknown>(batch.length).fill(undefined);
    const items: I[] = [];
    let seq = 0;
    batch.forEach((d, i) => {
      try {
        const item = source.decode(d);
        if (item !== undefined) items.push(item);
        seq = Math.max(seq, d.seq);
      } catch (err) {
        // An event that breaks its contract reaches every durable of the events stream;
        // the chunker dead-letters it, once. Projections pass over it.
        if (source.stream === 'events' && isSluiceError(err) && !err.retryable)
          seq = Math.max(seq, d.seq);
        else results[i] = err;
      }
    });
    if (seq > 0) await source.apply(items, { stream: streamName, seq });
    return results;
  };
}

/**
 * A durable feeding one projection from one stream: big batches (one transaction
 * each), a short wait to fill them. The projector's read models and the output role's
 * deliveries are all fed this way.
 */
export function projectionConsumer<I>(
  source: ProjectionSource<I>,
  durable: string,
  namespace: string,
  deps: RuntimeDeps,
): DurableConsumer {
  return new DurableConsumer(
    {
      durable,
      stream: source.stream,
      batchSize: 256,
      batchWaitMs: 20,
      handler: projectionHandler(source, streamName(namespace, source.stream)),
    },
    deps,
  );
}

/** When an event happened: its `time`, else when the stream stored it. */
function timeOf(time: string | undefined, d: Delivery): string {
  if (time !== undefined) return new Date(time).toISOString();
  if (d.source === 'stream')
    return new Date(Number(d.msg.info.timestampNanos / 1_000_000)).toISOString();
  return new Date().toISOString();
}

/** The document an event is about. */
const keyOf = (d: DocKey): DocKey => ({
  tenant: d.tenant,
  collection: d.collection,
  documentId: d.documentId,
});

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** What an upsert or a file event carries: its size, hash and type (a file: the raw bytes'). */
function bodyOf(e: Exclude<SluiceEvent, { type: 'sluice.document.deleted.v1' }>): {
  bytes: number;
  sha256: string;
  mimeType: string;
} {
  if (e.type === 'sluice.document.file.v1')
    return {
      bytes: e.data.file.size,
      sha256: e.data.file.sha256,
      mimeType: e.data.file.mediaType ?? 'application/octet-stream',
    };
  const data = e.data;
  return {
    bytes: data.textRef?.size ?? Buffer.byteLength(data.text ?? '', 'utf8'),
    sha256: data.textRef?.sha256 ?? sha256(data.text ?? ''),
    mimeType: data.mimeType ?? 'text/plain',
  };
}

export type DocumentsItem = { key: DocKey; input: DocInput };
export type CollectionsItem = { key: DocKey; input: CollectionInput; at: string };

export function documentsSources(
  subjects: Subjects,
  store: Pick<DocumentsStore, 'apply'>,
): ProjectionSource<DocumentsItem>[] {
  return [
    {
      stream: 'events',
      decode: (d) => {
        const e = decodeDocumentEvent(d, subjects);
        const key = keyOf(e.data);
        const at = timeOf(e.time, d);
        if (e.type === 'sluice.document.deleted.v1')
          return { key, input: { kind: 'deleted', version: d.seq, at } };
        const data = e.data;
        const body = bodyOf(e);
        return {
          key,
          input: {
            kind: 'upserted',
            version: d.seq,
            at,
            title: data.title ?? null,
            uri: data.uri ?? null,
            mimeType: body.mimeType,
            metadata: data.metadata ?? {},
            contentHash: body.sha256,
            bytes: body.bytes,
            ...(data.callbackUrl === undefined ? {} : { callbackUrl: data.callbackUrl }),
          },
        };
      },
      apply: (items, cp) => store.apply(items, cp),
    },
    {
      stream: 'status',
      decode: (d) => {
        const s = decodePipelineEvent(d, subjects, 'sluice.document.status.v1').data;
        return {
          key: keyOf(s),
          input: { kind: 'status', status: s },
        };
      },
      apply: (items, cp) => store.apply(items, cp),
    },
  ];
}

export function collectionsSources(
  subjects: Subjects,
  store: CollectionsStore,
): ProjectionSource<CollectionsItem>[] {
  return [
    {
      stream: 'events',
      decode: (d) => {
        const e = decodeDocumentEvent(d, subjects);
        const key = keyOf(e.data);
        const at = timeOf(e.time, d);
        if (e.type === 'sluice.document.deleted.v1')
          return { key, input: { kind: 'deleted', version: d.seq }, at };
        const bytes = bodyOf(e).bytes;
        return { key, input: { kind: 'upserted', version: d.seq, bytes }, at };
      },
      apply: (items, cp) => store.apply(items, cp),
    },
    {
      stream: 'status',
      decode: (d) => {
        const s = decodePipelineEvent(d, subjects, 'sluice.document.status.v1').data;
        if (s.stage !== 'chunked' || s.chunkCount === undefined) return undefined;
        return {
          key: keyOf(s),
          input: { kind: 'chunked', version: s.version, chunkCount: s.chunkCount },
          at: s.at,
        };
      },
      apply: (items, cp) => store.apply(items, cp),
    },
  ];
}
