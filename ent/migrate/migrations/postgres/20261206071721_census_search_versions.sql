-- pg_trgm: the trigram GIN index on persons.search_key that serves people(filter: {search})
-- (LIKE '%word%'). A trusted extension (PostgreSQL 13+): the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- Modify "person_versions" table; backfill: each person's versions numbered from 1, oldest first
ALTER TABLE "person_versions" ADD COLUMN "version" bigint NULL;
UPDATE "person_versions" AS v SET "version" = n.rn
  FROM (SELECT "id", ROW_NUMBER() OVER (PARTITION BY "person_id" ORDER BY "valid_from", "id") AS rn
        FROM "person_versions") AS n
  WHERE v."id" = n."id";
ALTER TABLE "person_versions" ALTER COLUMN "version" SET NOT NULL;
-- Create index "personversion_person_id_version" to table: "person_versions"
CREATE UNIQUE INDEX "personversion_person_id_version" ON "person_versions" ("person_id", "version");
-- Modify "persons" table. Existing rows get their search key (names, document, e-mail and phone
-- folded by Go's census.Fold, which SQL cannot reproduce exactly) from census.BackfillSearchKeys
-- at the server's start, which fills every row still at ''.
ALTER TABLE "persons" ADD COLUMN "search_key" character varying NOT NULL DEFAULT '';
-- Create index "procedure_state_prioritized_created_at" to table: "procedures"
CREATE INDEX "procedure_state_prioritized_created_at" ON "procedures" ("state", "prioritized", "created_at");
-- Create index "person_search_key" to table: "persons"
CREATE INDEX "person_search_key" ON "persons" USING gin ("search_key" gin_trgm_ops);
