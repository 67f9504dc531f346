import { keywordTables, type KeywordTables } from './keyword-index.js';

export interface IndexTables extends KeywordTables {
  documents: string;
  chunks: string;
  /** Complete documents per (tenant, collection, model): see {@link VectorIndex.apply}. */
  coverage: string;
}

export const indexTables: IndexTables = {
  documents: 'index_documents',
  chunks: 'index_chunks',
  coverage: 'index_coverage',
  ...keywordTables,
};
