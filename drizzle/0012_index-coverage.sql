CREATE TABLE "index_coverage" (
	"model_id" text NOT NULL,
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"documents" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "index_coverage_tenant_collection_model_id_pk" PRIMARY KEY("tenant","collection","model_id")
);
--> statement-breakpoint
-- Installations upgraded with an index already in place start from its exact count.
INSERT INTO "index_coverage" ("model_id", "tenant", "collection", "documents")
SELECT i.model_id, i.tenant, i.collection, count(*)::int
FROM "index_documents" i
WHERE i.version > 0 AND NOT i.deleted AND i.chunk_count = (
  SELECT count(*) FROM "index_chunks" c WHERE c.model_id = i.model_id AND c.tenant = i.tenant
    AND c.collection = i.collection AND c.document_id = i.document_id)
GROUP BY 1, 2, 3;
