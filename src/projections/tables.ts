/**
 * Table names of each projection. Live tables have these names in the public schema; a
 * replay builds the same tables in a schema of its own and swaps them in. Stores take
 * the (qualified) names so the same code writes either.
 */
export const documentsTables = {
  docs: 'proj_documents',
  checkpoints: 'proj_documents_checkpoints',
} as const;
export const collectionsTables = {
  collections: 'proj_collections',
  docs: 'proj_collection_docs',
  checkpoints: 'proj_collections_checkpoints',
} as const;

export type DocumentsTables = { [K in keyof typeof documentsTables]: string };
export type CollectionsTables = { [K in keyof typeof collectionsTables]: string };
