/** What one document contributes to its collection's statistics. */
export interface DocContribution {
  version: number;
  present: boolean;
  bytes: number;
  chunkVersion: number;
  chunkCount: number;
}

export type CollectionInput =
  | { kind: 'upserted'; version: number; bytes: number }
  | { kind: 'deleted'; version: number }
  | { kind: 'chunked'; version: number; chunkCount: number };

export const emptyContribution: DocContribution = {
  version: 0,
  present: false,
  bytes: 0,
  chunkVersion: 0,
  chunkCount: 0,
};

/** Order-independent and idempotent, like the documents fold: older inputs change nothing. */
export function applyContribution(c: DocContribution, i: CollectionInput): DocContribution {
  switch (i.kind) {
    case 'upserted':
      return i.version >= c.version
        ? { ...c, version: i.version, present: true, bytes: i.bytes }
        : c;
    case 'deleted':
      return i.version >= c.version ? { ...c, version: i.version, present: false, bytes: 0 } : c;
    case 'chunked':
      return i.version >= c.chunkVersion
        ? { ...c, chunkVersion: i.version, chunkCount: i.chunkCount }
        : c;
  }
}

/** The counts a contribution adds to its collection. */
export function counts(c: DocContribution): { documents: number; bytes: number; chunks: number } {
  if (!c.present) return { documents: 0, bytes: 0, chunks: 0 };
  return { documents: 1, bytes: c.bytes, chunks: c.chunkVersion === c.version ? c.chunkCount : 0 };
}
