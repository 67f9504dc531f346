CREATE TABLE "embedder_cache" (
	"model_id" text NOT NULL,
	"content_hash" text NOT NULL,
	"vector" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "embedder_cache_model_id_content_hash_pk" PRIMARY KEY("model_id","content_hash")
);
--> statement-breakpoint
CREATE TABLE "index_chunks" (
	"model_id" text NOT NULL,
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"chunk_index" integer NOT NULL,
	"chunk_id" text NOT NULL,
	"version" bigint NOT NULL,
	"content_hash" text NOT NULL,
	"text" text NOT NULL,
	"headings" text[] NOT NULL,
	"title" text,
	"uri" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"embedding" vector NOT NULL,
	"tsv" "tsvector" NOT NULL,
	CONSTRAINT "index_chunks_model_id_tenant_collection_document_id_chunk_index_pk" PRIMARY KEY("model_id","tenant","collection","document_id","chunk_index")
);
--> statement-breakpoint
CREATE TABLE "index_documents" (
	"model_id" text NOT NULL,
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"version" bigint NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "index_documents_model_id_tenant_collection_document_id_pk" PRIMARY KEY("model_id","tenant","collection","document_id")
);
--> statement-breakpoint
CREATE INDEX "index_chunks_tsv" ON "index_chunks" USING gin ("tsv");--> statement-breakpoint
CREATE INDEX "index_chunks_metadata" ON "index_chunks" USING gin ("metadata" jsonb_path_ops);