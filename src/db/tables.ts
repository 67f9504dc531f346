// Tables shared by no one live nowhere: each module declares its own tables in its
// own tables.ts (found by drizzle.config.ts's glob). This file exists so that the
// first migration, which only enables pgvector, has a schema to diff against.
export {};
