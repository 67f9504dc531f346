ALTER TABLE "replays" ADD COLUMN "phase" text DEFAULT 'load' NOT NULL;--> statement-breakpoint
-- Replays recorded before the phase was stored: a finished one is done; one whose shadow
-- tables are gone was swapped in and only has its catch-up left (what resuming used to
-- work out from the tables).
UPDATE "replays" SET "phase" = CASE
  WHEN "status" = 'done' THEN 'done'
  WHEN "status" = 'swapped'
    OR NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'sluice_replay_' || "projection") THEN 'catch-up'
  ELSE 'load' END;--> statement-breakpoint
ALTER TABLE "replays" ADD CONSTRAINT "replays_phase_check" CHECK ("replays"."phase" IN ('load', 'catch-up', 'done'));
