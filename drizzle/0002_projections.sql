CREATE TABLE "proj_collection_docs" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"present" boolean DEFAULT false NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"chunk_version" bigint DEFAULT 0 NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "proj_collection_docs_tenant_collection_document_id_pk" PRIMARY KEY("tenant","collection","document_id")
);
--> statement-breakpoint
CREATE TABLE "proj_collections" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_count" integer DEFAULT 0 NOT NULL,
	"chunk_count" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"last_event_at" timestamp with time zone,
	CONSTRAINT "proj_collections_tenant_collection_pk" PRIMARY KEY("tenant","collection")
);
--> statement-breakpoint
CREATE TABLE "proj_collections_checkpoints" (
	"stream" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "proj_documents" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"version" bigint NOT NULL,
	"status" text NOT NULL,
	"received_version" bigint DEFAULT 0 NOT NULL,
	"title" text,
	"uri" text,
	"mime_type" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"content_hash" text,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"chunked_at" timestamp with time zone,
	"embedded_at" timestamp with time zone,
	"indexed_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"chunk_count" integer,
	"parts" integer,
	"embedded_parts" integer[] DEFAULT '{}'::int[] NOT NULL,
	"indexed_parts" integer[] DEFAULT '{}'::int[] NOT NULL,
	"model_id" text,
	"last_error" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "proj_documents_tenant_collection_document_id_pk" PRIMARY KEY("tenant","collection","document_id")
);
--> statement-breakpoint
CREATE TABLE "proj_documents_checkpoints" (
	"stream" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "proj_documents_status" ON "proj_documents" USING btree ("tenant","collection","status","document_id");