-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `email` text NULL, `phone` text NULL, `phone_verified` bool NOT NULL DEFAULT (false), `password_hash` text NOT NULL, `role` text NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `two_factor` text NOT NULL DEFAULT ('NONE'), `failed_logins` integer NOT NULL DEFAULT (0), `locked_until` datetime NULL, `created_at` datetime NOT NULL, `activated_at` datetime NULL, `username_skeleton` text NULL, `email_skeleton` text NULL);
-- Set sequence for "new_users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_users", 21474836480);
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `username`, `email`, `phone`, `password_hash`, `role`, `status`, `two_factor`, `failed_logins`, `locked_until`, `created_at`, `activated_at`, `username_skeleton`, `email_skeleton`) SELECT `id`, `username`, `email`, `phone`, `password_hash`, `role`, `status`, `two_factor`, `failed_logins`, `locked_until`, `created_at`, `activated_at`, `username_skeleton`, `email_skeleton` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create index "users_phone_key" to table: "users"
CREATE UNIQUE INDEX `users_phone_key` ON `users` (`phone`);
-- Create index "users_username_skeleton_key" to table: "users"
CREATE UNIQUE INDEX `users_username_skeleton_key` ON `users` (`username_skeleton`);
-- Create index "users_email_skeleton_key" to table: "users"
CREATE UNIQUE INDEX `users_email_skeleton_key` ON `users` (`email_skeleton`);
-- Create index "users_username_trgm" to table: "users"
CREATE INDEX `users_username_trgm` ON `users` (`username`);
-- Create index "users_email_trgm" to table: "users"
CREATE INDEX `users_email_trgm` ON `users` (`email`);
-- Create index "users_phone_trgm" to table: "users"
CREATE INDEX `users_phone_trgm` ON `users` (`phone`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
-- Phones entered by an administrator count as verified (the bank vouches for them): every
-- staff or admin user's, and a customer's created by createCustomer (which takes no social
-- security number, where the public register requires one). Registered phones stay unverified.
UPDATE "users" SET "phone_verified" = true WHERE "phone" IS NOT NULL AND ("role" <> 'CUSTOMER'
  OR "id" IN (SELECT "user_id" FROM "customers" WHERE "social_security_hash" IS NULL));
