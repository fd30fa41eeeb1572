-- Modify "audit_events" table
ALTER TABLE "audit_events" ALTER COLUMN "actor_id" DROP NOT NULL, ADD COLUMN "target" character varying NULL, ADD COLUMN "target_name" character varying NULL, ADD COLUMN "client_request_id" character varying NULL;
