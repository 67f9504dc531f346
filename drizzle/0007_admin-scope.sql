CREATE TABLE "redrive_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant" text,
	"selection" jsonb NOT NULL,
	"status" text NOT NULL,
	"redriven" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"scanned" bigint DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "operator" boolean DEFAULT false NOT NULL;