-- A generation per keyword term, from one sequence: it changes whenever the term's
-- postings do, so a copy of a posting list held in memory by the API can be checked
-- against the database on every query. The sequence starts at a random point, so two
-- databases (two test clusters, a restored backup) practically never share a generation.
CREATE SEQUENCE IF NOT EXISTS "keyword_gen";--> statement-breakpoint
SELECT setval('keyword_gen', 1 + floor(random() * 4503599627370496)::bigint);--> statement-breakpoint
-- A volatile default: every existing row gets a generation of its own.
ALTER TABLE "keyword_terms" ADD COLUMN "gen" bigint DEFAULT nextval('keyword_gen') NOT NULL;
