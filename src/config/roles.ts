export const roleNames = [
  'api',
  'chunker',
  'embedder',
  'indexer',
  'projector',
  'output',
  'parser',
] as const;
export type Role = (typeof roleNames)[number];
