CREATE TABLE "replays" (
	"projection" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"from_seq" bigint,
	"since" timestamp with time zone,
	"streams" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"events_per_second" bigint,
	"owner" text,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
