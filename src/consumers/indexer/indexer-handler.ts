import type { VectorsV1 } from '../../contracts/index.js';
import { chunksIndexedTotal } from '../../metrics.js';
import type { Subjects } from '../../topology/index.js';
import type { BatchHandler } from '../../runtime/consumer.js';
import { decodePipelineEvent } from '../../runtime/decode.js';
import { timeSlicer } from '../../runtime/time-slice.js';
import type { PipelinePublisher } from '../../runtime/publisher.js';
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
    const parts: { p: VectorsV1; i: number }[] = [];
    const slice = timeSlicer();
    for (const [i, d] of batch.entries()) {
      await slice();
      try {
        parts.push({ p: decodePipelineEvent(d, o.subjects, 'sluice.vectors.v1').data, i });
      } catch (err) {
        results[i] = err;
      }
    }
    if (parts.length === 0) return results;
    for (const { p } of parts) await o.index.ensureModelIndex(p.model, p.dimensions);
    const outcomes = await o.index.apply(parts.map((x) => x.p));
    await Promise.all(
      parts.map(async ({ p, i }, k) => {
        if (outcomes[k] !== 'applied' || p.deleted || o.emitStatus === false) return;
        chunksIndexedTotal.inc({ model: p.model }, p.chunks.length);
        const ref = { tenant: p.tenant, collection: p.collection, documentId: p.documentId };
        try {
          await o.publisher.event(
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
          );
        } catch (err) {
          results[i] = err;
        }
      }),
    );
    return results;
  };
}
