import { packVectors, type VectorsV1 } from '../../src/contracts/index.js';

/**
 * A vectors part of a document of one chunk (no title or headings: its words are exactly
 * `text`) with a 2-dimensional vector, or of a deletion: what the keyword index tests
 * write through `VectorIndex.apply`.
 */
export function oneChunkPart(o: {
  model: string;
  tenant: string;
  collection: string;
  documentId: string;
  version: number;
  text: string;
  deleted?: boolean;
  metadata?: Record<string, string>;
}): VectorsV1 {
  const deleted = o.deleted ?? false;
  return {
    tenant: o.tenant,
    collection: o.collection,
    documentId: o.documentId,
    version: o.version,
    deleted,
    part: 0,
    parts: 1,
    chunkCount: deleted ? 0 : 1,
    document: o.metadata ? { metadata: o.metadata } : {},
    chunks: deleted
      ? []
      : [
          {
            index: 0,
            id: `${o.documentId}-${o.version}`.padEnd(32, '0'),
            text: o.text,
            headings: [],
            hash: `${o.version}`.padStart(64, '0'),
            tokens: 5,
            start: 0,
            end: o.text.length,
          },
        ],
    model: o.model,
    dimensions: 2,
    vectors: packVectors(deleted ? [] : [new Float32Array([1, 0])], 2),
  };
}

/** A seeded pseudo-random generator in [0, 1): the same collection on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}
