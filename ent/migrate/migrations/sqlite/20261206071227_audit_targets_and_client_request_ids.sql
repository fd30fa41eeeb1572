-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_events" table
CREATE TABLE `new_audit_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `actor_id` integer NULL, `actor_username` text NOT NULL, `actor_role` text NOT NULL, `action` text NOT NULL, `operation_name` text NULL, `outcome` text NOT NULL, `client_addr` text NOT NULL, `target` text NULL, `target_name` text NULL, `request_id` text NULL, `client_request_id` text NULL, `at` datetime NOT NULL);
-- Set sequence for "new_audit_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_audit_events", 77309411328);
-- Copy rows from old table "audit_events" to new temporary table "new_audit_events"
INSERT INTO `new_audit_events` (`id`, `actor_id`, `actor_username`, `actor_role`, `action`, `operation_name`, `outcome`, `client_addr`, `request_id`, `at`) SELECT `id`, `actor_id`, `actor_username`, `actor_role`, `action`, `operation_name`, `outcome`, `client_addr`, `request_id`, `at` FROM `audit_events`;
-- Drop "audit_events" table after copying rows
DROP TABLE `audit_events`;
-- Rename temporary table "new_audit_events" to "audit_events"
ALTER TABLE `new_audit_events` RENAME TO `audit_events`;
-- Create index "auditevent_actor_id_at" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_at` ON `audit_events` (`actor_id`, `at`);
-- Create index "auditevent_at" to table: "audit_events"
CREATE INDEX `auditevent_at` ON `audit_events` (`at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
