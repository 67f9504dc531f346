CREATE TABLE "collection_models" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"active_model" text NOT NULL,
	"previous_model" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "collection_models_tenant_collection_pk" PRIMARY KEY("tenant","collection")
);
