/**
 * Table names of each projection. Live tables have these names; a replay builds the
 * same tables with a suffix (shadow) and swaps them in. Stores take a TableSet so the
 * same code writes either.
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

export function withSuffix<T extends Record<string, string>>(
  tables: T,
  suffix: string,
): { [K in keyof T]: string } {
  return Object.fromEntries(Object.entries(tables).map(([k, v]) => [k, `${v}${suffix}`])) as {
    [K in keyof T]: string;
  };
}
