ALTER TABLE "keyword_scopes" ADD COLUMN "impact_avg" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
-- Impacts written so far used averages that are not recorded: compute them again with the
-- average of now, which becomes the bound's starting point.
UPDATE "keyword_scopes" SET "impact_avg" = greatest("total_length"::float8 / greatest("chunks", 1), 1);--> statement-breakpoint
UPDATE "keyword_postings" p SET "impact" = (p.tf * 1.9)::float8 / (p.tf + 0.9 * (0.6 + 0.4 * p.length::float8 / s.impact_avg))
FROM "keyword_scopes" s WHERE p.scope = s.scope;
