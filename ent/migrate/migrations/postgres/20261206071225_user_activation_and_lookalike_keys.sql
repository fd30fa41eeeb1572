-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "activated_at" timestamptz NULL, ADD COLUMN "username_skeleton" character varying NULL, ADD COLUMN "email_skeleton" character varying NULL;
-- Create index "users_email_skeleton_key" to table: "users"
CREATE UNIQUE INDEX "users_email_skeleton_key" ON "users" ("email_skeleton");
-- Create index "users_username_skeleton_key" to table: "users"
CREATE UNIQUE INDEX "users_username_skeleton_key" ON "users" ("username_skeleton");
-- Backfill: a user who ever had a session has used their online access (selfRegister refuses them).
UPDATE "users" SET "activated_at" = (SELECT min("created_at") FROM "sessions" WHERE "sessions"."user_id" = "users"."id") WHERE "activated_at" IS NULL;
