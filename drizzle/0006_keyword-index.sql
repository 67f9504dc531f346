CREATE TABLE "keyword_postings" (
	"scope" bigint NOT NULL,
	"term" text NOT NULL,
	"document_id" text NOT NULL,
	"chunk_index" integer NOT NULL,
	"tf" integer NOT NULL,
	"length" integer NOT NULL,
	"impact" real NOT NULL,
	CONSTRAINT "keyword_postings_scope_term_document_id_chunk_index_pk" PRIMARY KEY("scope","term","document_id","chunk_index")
);
--> statement-breakpoint
CREATE TABLE "keyword_scopes" (
	"scope" bigint PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"chunks" bigint DEFAULT 0 NOT NULL,
	"total_length" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "keyword_terms" (
	"scope" bigint NOT NULL,
	"term" text NOT NULL,
	"df" integer NOT NULL,
	CONSTRAINT "keyword_terms_scope_term_pk" PRIMARY KEY("scope","term")
);
--> statement-breakpoint
CREATE TABLE "search_fusion" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"model_id" text NOT NULL,
	"vector_weight" real NOT NULL,
	"calibration" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "search_fusion_tenant_collection_model_id_pk" PRIMARY KEY("tenant","collection","model_id")
);
--> statement-breakpoint
CREATE INDEX "keyword_postings_impact" ON "keyword_postings" USING btree ("scope","term","impact" DESC NULLS LAST) INCLUDE ("document_id","chunk_index","tf","length");--> statement-breakpoint
CREATE INDEX "keyword_scopes_key" ON "keyword_scopes" USING btree ("model_id","tenant","collection");--> statement-breakpoint
-- Fill the keyword index from the chunks indexed before it existed (the statement the indexer runs per batch).
WITH new AS (SELECT model_id, tenant, collection, document_id, chunk_index, tsv FROM "index_chunks"),
t AS (
  SELECT hashtextextended(n.model_id || E'\x1f' || n.tenant || E'\x1f' || n.collection, 0) AS scope, n.model_id, n.tenant, n.collection,
         n.document_id, n.chunk_index, l.lexeme AS term, coalesce(array_length(l.positions, 1), 1) AS tf
  FROM new n, unnest(n.tsv) AS l),
len AS (
  SELECT scope, model_id, tenant, collection, document_id, chunk_index, sum(tf)::int AS length
  FROM t GROUP BY 1, 2, 3, 4, 5, 6),
sc AS (
  INSERT INTO "keyword_scopes" AS s (scope, model_id, tenant, collection, chunks, total_length)
  SELECT scope, model_id, tenant, collection, count(*), sum(length) FROM len GROUP BY 1, 2, 3, 4
  ON CONFLICT (scope) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks,
                                    total_length = s.total_length + EXCLUDED.total_length
  RETURNING s.scope, s.total_length::float8 / greatest(s.chunks, 1) AS avg),
df AS (
  INSERT INTO "keyword_terms" AS k (scope, term, df)
  SELECT scope, term, count(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (scope, term) DO UPDATE SET df = k.df + EXCLUDED.df)
INSERT INTO "keyword_postings" (scope, term, document_id, chunk_index, tf, length, impact)
SELECT t.scope, t.term, t.document_id, t.chunk_index, t.tf, len.length, (t.tf * 1.9)::float8 / (t.tf + 0.9 * (0.6 + 0.4 * len.length::float8 / greatest(sc.avg, 1)))
FROM t JOIN len USING (scope, document_id, chunk_index) JOIN sc USING (scope);
