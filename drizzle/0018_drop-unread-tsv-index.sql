-- Nothing reads index_chunks.tsv through an index: keyword search reads keyword_postings,
-- derived from tsv. The GIN index was maintained on every chunk insert and rebuilt by
-- every replay of the index (about 1 s per 20k chunks), for no query.
DROP INDEX IF EXISTS "index_chunks_tsv";
