-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "phone_verified" boolean NOT NULL DEFAULT false;
-- Phones entered by an administrator count as verified (the bank vouches for them): every
-- staff or admin user's, and a customer's created by createCustomer (which takes no social
-- security number, where the public register requires one). Registered phones stay unverified.
UPDATE "users" SET "phone_verified" = true WHERE "phone" IS NOT NULL AND ("role" <> 'CUSTOMER'
  OR "id" IN (SELECT "user_id" FROM "customers" WHERE "social_security_hash" IS NULL));
