-- pgvector: drizzle-kit does not emit CREATE EXTENSION, so this migration is custom.
CREATE EXTENSION IF NOT EXISTS vector;
