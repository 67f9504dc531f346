import type { Span } from '@opentelemetry/api';
import { embedTextOf, packVectors, type ChunksV1 } from '../../contracts/index.js';
import { isSluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import {
  embeddingCacheTotal,
  embeddingSeconds,
  embeddingsTotal,
  tokensEmbeddedTotal,
} from '../../metrics.js';
import type { Embedder } from '../../models/index.js';
import type { Subjects } from '../../topology/index.js';

import { inDelivery, type BatchHandler, type Delivery } from '../../runtime/index.js';
import { decodePipelineEvent } from '../../runtime/index.js';
import { timeSlicer } from '../../runtime/index.js';
import type { PipelinePublisher } from '../../runtime/index.js';
import { inSpan, linksTo } from '../../tracing/index.js';
import type { EmbeddingCache } from './cache.js';

export interface EmbedderHandlerOptions {
  subjects: Subjects;
  publisher: PipelinePublisher;
  embedder: Embedder;
  cache: EmbeddingCache;
  logger: Logger;
}

/** Counts since start, for tests and for the status events. */
export interface EmbedderStats {
  computed: number;
  hits: number;
  misses: number;
}

/**
 * The embedder for one model: chunk events in, vector events out. Chunks of every
 * message in the batch are embedded together (texts deduplicated, cached ones
 * skipped, the rest sorted by length by the Embedder), then each message gets its
 * vectors event and an "embedded" status. Tombstones pass through as they are.
 */
export function embedderHandler(
  o: EmbedderHandlerOptions,
): BatchHandler & { stats: EmbedderStats } {
  const spec = o.embedder.spec;
  const stats: EmbedderStats = { computed: 0, hits: 0, misses: 0 };

  /** Vectors for the chunks of these messages (one span for the batch, linked to each). */
  const vectorsFor = (
    items: { e: ChunksV1; d: Delivery }[],
  ): Promise<{ vectors: Map<string, Float32Array>; hits: Set<string> }> =>
    inSpan(
      'embed',
      {
        links: linksTo(items.map((x) => x.d.trace)),
        attributes: { 'sluice.model': spec.id, 'sluice.message.count': items.length },
      },
      async (span) => {
        const texts = new Map<string, { text: string; tokens: number }>();
        for (const { e } of items)
          for (const c of e.chunks) texts.set(c.hash, { text: embedTextOf(c), tokens: c.tokens });
        span.setAttribute('sluice.chunk.count', texts.size);
        return compute(texts, span);
      },
    );

  const compute = async (
    texts: Map<string, { text: string; tokens: number }>,
    span: Span,
  ): Promise<{ vectors: Map<string, Float32Array>; hits: Set<string> }> => {
    const cached = await o.cache.get([...texts.keys()]);
    const missing = [...texts.keys()].filter((h) => !cached.has(h));
    span.setAttributes({ 'sluice.cache.hits': cached.size, 'sluice.cache.misses': missing.length });
    const computed = new Map<string, Float32Array>();
    if (missing.length > 0) {
      const end = embeddingSeconds.startTimer({ model: spec.id });
      const vectors = await o.embedder.embed(missing.map((h) => texts.get(h)!.text));
      const seconds = end();
      o.logger.debug({ chunks: missing.length, ms: Math.round(seconds * 1000) }, 'embedded');

      missing.forEach((h, i) => computed.set(h, vectors[i]!));
      await o.cache.put(computed);
      const tokens = missing.reduce((n, h) => n + texts.get(h)!.tokens, 0);
      embeddingsTotal.inc({ model: spec.id }, missing.length);
      tokensEmbeddedTotal.inc({ model: spec.id }, tokens);
      span.setAttribute('sluice.token.count', tokens);
      stats.computed += missing.length;
    }
    return { vectors: new Map([...cached, ...computed]), hits: new Set(cached.keys()) };
  };

  const emit = async (
    e: ChunksV1,
    vectors: Map<string, Float32Array>,
    hits: Set<string>,
  ): Promise<void> => {
    const ref = { tenant: e.tenant, collection: e.collection, documentId: e.documentId };
    const rows = e.chunks.map((c) => vectors.get(c.hash)!);
    const hit = e.chunks.filter((c) => hits.has(c.hash)).length;
    stats.hits += hit;
    stats.misses += e.chunks.length - hit;
    embeddingCacheTotal.inc({ model: spec.id, result: 'hit' }, hit);
    embeddingCacheTotal.inc({ model: spec.id, result: 'miss' }, e.chunks.length - hit);
    await o.publisher.event(
      o.subjects.vectors(spec.key, ref),
      'sluice.vectors.v1',
      {
        ...e,
        model: spec.id,
        dimensions: spec.dimensions,
        vectors: packVectors(rows, spec.dimensions),
      },
      `vectors:${spec.key}:${e.version}:${e.part}`,
    );
    if (!e.deleted) {
      await o.publisher.event(
        o.subjects.status(ref),
        'sluice.document.status.v1',
        {
          ...ref,
          version: e.version,
          stage: 'embedded',
          at: new Date().toISOString(),
          part: e.part,
          parts: e.parts,
          chunkCount: e.chunkCount,
          model: spec.id,
          cache: { hits: hit, misses: e.chunks.length - hit },
        },
        `status:embedded:${spec.key}:${e.version}:${e.part}`,
      );
    }
  };

  const handler = async (batch: Delivery[]): Promise<unknown[]> => {
    const results: unknown[] = new Array<unknown>(batch.length).fill(undefined);
    const events: (ChunksV1 | undefined)[] = [];
    const slice = timeSlicer();
    for (const [i, d] of batch.entries()) {
      await slice();
      try {
        const e = decodePipelineEvent(d, o.subjects, 'sluice.chunks.v1').data;
        d.span.setAttributes({
          'sluice.document.id': e.documentId,
          'sluice.model': spec.id,
          'sluice.chunk.count': e.chunks.length,
        });
        events.push(e);
      } catch (err) {
        results[i] = err;
        events.push(undefined);
      }
    }
    const ok = events.flatMap((e, i) => (e ? [{ e, i, d: batch[i]! }] : []));
    let computed: Awaited<ReturnType<typeof vectorsFor>>;
    try {
      computed = await vectorsFor(ok);
    } catch (err) {
      // A permanent failure (a chunk too long for the model) belongs to one message:
      // find it by embedding message by message; transient ones fail the batch.
      if (!isSluiceError(err) || err.retryable || ok.length === 1) throw err;
      for (const { e, i, d } of ok) {
        try {
          const one = await vectorsFor([{ e, d }]);
          await inDelivery(d, () => emit(e, one.vectors, one.hits));
        } catch (oneErr) {
          results[i] = oneErr;
        }
      }
      return results;
    }
    // Publishes go out together; building each (packing, serializing) gives way to the
    // event loop between messages when it runs long.
    const publishing: Promise<void>[] = [];
    for (const { e, i, d } of ok) {
      await slice();
      publishing.push(
        inDelivery(d, () => emit(e, computed.vectors, computed.hits)).catch((err: unknown) => {
          results[i] = err;
        }),
      );
    }
    await Promise.all(publishing);
    return results;
  };
  return Object.assign(handler, { stats });
}
