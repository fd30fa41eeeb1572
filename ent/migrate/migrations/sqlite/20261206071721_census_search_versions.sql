-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_persons" table
CREATE TABLE `new_persons` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `census_number` integer NOT NULL, `first_name` text NOT NULL, `last_name1` text NOT NULL, `last_name2` text NULL, `document_type` text NOT NULL, `document_id` text NOT NULL, `document_scope_code` text NOT NULL, `born_at` datetime NOT NULL, `gender` text NOT NULL, `address` text NOT NULL, `address_scope_code` text NOT NULL, `postal_code` text NOT NULL, `email` text NULL, `scope_code` text NOT NULL, `phone` text NULL, `state` text NOT NULL DEFAULT ('PENDING'), `membership_level` text NOT NULL DEFAULT ('FOLLOWER'), `verification` text NOT NULL DEFAULT ('NOT_VERIFIED'), `phone_verification` text NOT NULL DEFAULT ('NOT_VERIFIED'), `external_ids` json NULL, `additional_information` json NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `search_key` text NOT NULL DEFAULT (''), CONSTRAINT `person_census_number_positive` CHECK (census_number > 0));
-- Set sequence for "new_persons" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_persons", 55834574848);
-- Copy rows from old table "persons" to new temporary table "new_persons". Their search key (Go's
-- census.Fold, which SQL cannot reproduce exactly) is filled by census.BackfillSearchKeys at the
-- server's start, which fills every row still at ''.
INSERT INTO `new_persons` (`id`, `census_number`, `first_name`, `last_name1`, `last_name2`, `document_type`, `document_id`, `document_scope_code`, `born_at`, `gender`, `address`, `address_scope_code`, `postal_code`, `email`, `scope_code`, `phone`, `state`, `membership_level`, `verification`, `phone_verification`, `external_ids`, `additional_information`, `created_at`, `updated_at`) SELECT `id`, `census_number`, `first_name`, `last_name1`, `last_name2`, `document_type`, `document_id`, `document_scope_code`, `born_at`, `gender`, `address`, `address_scope_code`, `postal_code`, `email`, `scope_code`, `phone`, `state`, `membership_level`, `verification`, `phone_verification`, `external_ids`, `additional_information`, `created_at`, `updated_at` FROM `persons`;
-- Drop "persons" table after copying rows
DROP TABLE `persons`;
-- Rename temporary table "new_persons" to "persons"
ALTER TABLE `new_persons` RENAME TO `persons`;
-- Create index "persons_census_number_key" to table: "persons"
CREATE UNIQUE INDEX `persons_census_number_key` ON `persons` (`census_number`);
-- Create index "persons_document_id_key" to table: "persons"
CREATE UNIQUE INDEX `persons_document_id_key` ON `persons` (`document_id`);
-- Create index "person_phone" to table: "persons"
CREATE INDEX `person_phone` ON `persons` (`phone`);
-- Create "new_person_versions" table
CREATE TABLE `new_person_versions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `version` integer NOT NULL, `valid_from` datetime NOT NULL, `snapshot` json NOT NULL, `procedure_id` integer NULL, `changed_by_id` integer NULL, `created_at` datetime NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `person_versions_persons_versions` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_person_versions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_person_versions", 64424509440);
-- Copy rows from old table "person_versions" to new temporary table "new_person_versions"
-- with the backfill: each person's versions numbered from 1, oldest first
INSERT INTO `new_person_versions` (`id`, `version`, `valid_from`, `snapshot`, `procedure_id`, `changed_by_id`, `created_at`, `person_id`) SELECT `id`, ROW_NUMBER() OVER (PARTITION BY `person_id` ORDER BY `valid_from`, `id`), `valid_from`, `snapshot`, `procedure_id`, `changed_by_id`, `created_at`, `person_id` FROM `person_versions`;
-- Drop "person_versions" table after copying rows
DROP TABLE `person_versions`;
-- Rename temporary table "new_person_versions" to "person_versions"
ALTER TABLE `new_person_versions` RENAME TO `person_versions`;
-- Create index "personversion_person_id_valid_from" to table: "person_versions"
CREATE INDEX `personversion_person_id_valid_from` ON `person_versions` (`person_id`, `valid_from`);
-- Create index "personversion_person_id_version" to table: "person_versions"
CREATE UNIQUE INDEX `personversion_person_id_version` ON `person_versions` (`person_id`, `version`);
-- Create index "procedure_state_prioritized_created_at" to table: "procedures"
CREATE INDEX `procedure_state_prioritized_created_at` ON `procedures` (`state`, `prioritized`, `created_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
-- Create index "person_search_key" to table: "persons"
CREATE INDEX `person_search_key` ON `persons` (`search_key`);
