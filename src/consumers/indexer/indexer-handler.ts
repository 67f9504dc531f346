import type { VectorsV1 } from '../../contracts/index.js';
import { chunksIndexedTotal } from '../../metrics.js';
import type { Subjects } from '../../topology/index.js';
import { inDelivery, type BatchHandler, type Delivery } from '../../runtime/index.js';
import { inSpan, linksTo } from '../../tracing/index.js';
import { decodePipelineEvent } from '../../runtime/index.js';
import { timeSlicer } from '../../runtime/index.js';
import type { PipelinePublisher } from '../../runtime/index.js';
import type { VectorIndex } from './store.js';

export interface IndexerHandlerOptions {
  subjects: Subjects;
  publisher: PipelinePublisher;
  index: VectorIndex;
  /** Report "indexed" stages (a replay does not: it re-derives, nothing new happened). @defaultValue true */
  emitStatus?: boolean;
}

/**
 * The indexer: vectors events in, rows in pgvector out, one transaction per batch, then
 * an "indexed" status per applied part. It reads nothing but the vectors stream, which
 * is why the whole index can be rebuilt from that stream alone.
 */
export function indexerHandler(o: IndexerHandlerOptions): BatchHandler {
  return async (batch) => {
    const results: unknown[] = new Array<unknown>(batch.length).fill(undefined);
    const parts: { p: VectorsV1; i: number; d: Delivery }[] = [];
    const slice = timeSlicer();
    for (const [i, d] of batch.entries()) {
      await slice();
      try {
        const p = decodePipelineEvent(d, o.subjects, 'sluice.vectors.v1').data;
        d.span.setAttributes({
          'sluice.document.id': p.documentId,
          'sluice.model': p.model,
          'sluice.chunk.count': p.chunks.length,
        });
        parts.push({ p, i, d });
      } catch (err) {
        results[i] = err;
      }
    }
    if (parts.length === 0) return results;
    const outcomes = await inSpan(
      'index',
      {
        links: linksTo(parts.map((x) => x.d.trace)),
        attributes: {
          'db.system.name': 'postgresql',
          'sluice.message.count': parts.length,
          'sluice.chunk.count': parts.reduce((n, x) => n + x.p.chunks.length, 0),
        },
      },
      async () => {
        for (const { p } of parts) await o.index.ensureModelIndex(p.model, p.dimensions);
        return o.index.apply(parts.map((x) => x.p));
      },
    );
    await Promise.all(
      parts.map(async ({ p, i, d }, k) => {
        if (outcomes[k] !== 'applied' || p.deleted || o.emitStatus === false) return;
        chunksIndexedTotal.inc({ model: p.model }, p.chunks.length);
        const ref = { tenant: p.tenant, collection: p.collection, documentId: p.documentId };
        try {
          await inDelivery(d, () =>
            o.publisher.event(
              o.subjects.status(ref),
              'sluice.document.status.v1',
              {
                ...ref,
                version: p.version,
                stage: 'indexed',
                at: new Date().toISOString(),
                part: p.part,
                parts: p.parts,
                chunkCount: p.chunkCount,
                model: p.model,
              },
              `status:indexed:${p.model}:${p.version}:${p.part}`,
            ),
          );
        } catch (err) {
          results[i] = err;
        }
      }),
    );
    return results;
  };
}
