-- Keep each chunk's vector in its row. pgvector's type is stored EXTERNAL by default, and
-- a chunk row (vector, text, tsvector) is over PostgreSQL's 2 kB TOAST threshold, so every
-- vector lived out of line: an exact scan (small collections, filtered searches) fetched
-- each one from the TOAST table, 3-4x the time of reading it in place. MAIN moves the text
-- and the tsvector out first. New rows only: existing ones move in when rewritten (any
-- reindex, or `sluice replay` of the index, whose shadow tables copy the storage).
ALTER TABLE "index_chunks" ALTER COLUMN "embedding" SET STORAGE MAIN;
