-- Create "accounts" table
CREATE TABLE `accounts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `code` text NULL, `iban` text NULL, `number` text NOT NULL, `currency` text NOT NULL, `balance` integer NOT NULL DEFAULT (0), `reserved` integer NOT NULL DEFAULT (0), `debit_limit` integer NOT NULL DEFAULT (0), `allow_negative` bool NOT NULL DEFAULT (false), `version` integer NOT NULL DEFAULT (0), `holder_name` text NOT NULL, `closed_at` datetime NULL, `created_at` datetime NOT NULL, `owner_id` integer NULL, CONSTRAINT `accounts_customers_accounts` FOREIGN KEY (`owner_id`) REFERENCES `customers` (`id`) ON DELETE SET NULL, CONSTRAINT `account_debit_limit` CHECK (debit_limit >= 0), CONSTRAINT `account_reserved` CHECK (reserved >= 0), CONSTRAINT `account_within_limit` CHECK (allow_negative OR balance - reserved + debit_limit >= 0));
-- Create index "accounts_code_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_code_key` ON `accounts` (`code`);
-- Create index "accounts_iban_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_iban_key` ON `accounts` (`iban`);
-- Create index "accounts_number_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_number_key` ON `accounts` (`number`);
-- Create index "account_owner_id_kind" to table: "accounts"
CREATE INDEX `account_owner_id_kind` ON `accounts` (`owner_id`, `kind`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `actor_id` integer NOT NULL, `actor_username` text NOT NULL, `actor_role` text NOT NULL, `action` text NOT NULL, `operation_name` text NULL, `outcome` text NOT NULL, `client_addr` text NOT NULL, `request_id` text NULL, `at` datetime NOT NULL);
-- Set sequence for "audit_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_events", 77309411328);
-- Create index "auditevent_actor_id_at" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_at` ON `audit_events` (`actor_id`, `at`);
-- Create index "auditevent_at" to table: "audit_events"
CREATE INDEX `auditevent_at` ON `audit_events` (`at`);
-- Create "bills" table
CREATE TABLE `bills` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `amount` integer NOT NULL, `due_date` datetime NOT NULL, `created_at` datetime NOT NULL, `paid_at` datetime NULL, `customer_id` integer NOT NULL, `paid_with_card_id` integer NULL, `transaction_id` integer NULL, CONSTRAINT `bills_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `bills_cards_paid_with` FOREIGN KEY (`paid_with_card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `bills_transactions_transaction` FOREIGN KEY (`transaction_id`) REFERENCES `transactions` (`id`) ON DELETE SET NULL, CONSTRAINT `bill_amount_positive` CHECK (amount > 0));
-- Set sequence for "bills" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("bills", 34359738368);
-- Create index "bill_customer_id_due_date" to table: "bills"
CREATE INDEX `bill_customer_id_due_date` ON `bills` (`customer_id`, `due_date`);
-- Create "cards" table
CREATE TABLE `cards` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `number_hash` blob NOT NULL, `last4` text NOT NULL, `expires_on` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `created_at` datetime NOT NULL, `closed_at` datetime NULL, `customer_id` integer NOT NULL, `account_id` integer NOT NULL, CONSTRAINT `cards_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `cards_accounts_account` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION);
-- Set sequence for "cards" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("cards", 38654705664);
-- Create index "cards_number_hash_key" to table: "cards"
CREATE UNIQUE INDEX `cards_number_hash_key` ON `cards` (`number_hash`);
-- Create "cashouts" table
CREATE TABLE `cashouts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `amount` integer NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `channel` text NOT NULL, `cashout_address` text NOT NULL, `created_at` datetime NOT NULL, `confirmed_at` datetime NULL, `aborted_at` datetime NULL, `customer_id` integer NOT NULL, `transaction_id` integer NOT NULL, CONSTRAINT `cashouts_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `cashouts_transactions_transaction` FOREIGN KEY (`transaction_id`) REFERENCES `transactions` (`id`) ON DELETE NO ACTION, CONSTRAINT `cashout_amount_positive` CHECK (amount > 0));
-- Set sequence for "cashouts" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("cashouts", 42949672960);
-- Create index "cashout_customer_id_created_at" to table: "cashouts"
CREATE INDEX `cashout_customer_id_created_at` ON `cashouts` (`customer_id`, `created_at`);
-- Create "challenges" table
CREATE TABLE `challenges` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `public_id` text NOT NULL, `purpose` text NOT NULL, `subject` text NOT NULL, `user_id` integer NULL, `code_hash` blob NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `data` json NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL);
-- Set sequence for "challenges" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("challenges", 25769803776);
-- Create index "challenges_public_id_key" to table: "challenges"
CREATE UNIQUE INDEX `challenges_public_id_key` ON `challenges` (`public_id`);
-- Create index "challenge_purpose_subject" to table: "challenges"
CREATE INDEX `challenge_purpose_subject` ON `challenges` (`purpose`, `subject`);
-- Create index "challenge_created_at" to table: "challenges"
CREATE INDEX `challenge_created_at` ON `challenges` (`created_at`);
-- Create "customers" table
CREATE TABLE `customers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `first_name` text NULL, `middle_name` text NULL, `last_name` text NULL, `date_of_birth` datetime NULL, `address` text NULL, `city` text NULL, `state` text NULL, `post_code` text NULL, `social_security_hash` blob NULL, `social_security_last4` text NULL, `cashout_address` text NULL, `public_key` blob NULL, `created_at` datetime NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `customers_users_customer` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Set sequence for "customers" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("customers", 4294967296);
-- Create index "customers_social_security_hash_key" to table: "customers"
CREATE UNIQUE INDEX `customers_social_security_hash_key` ON `customers` (`social_security_hash`);
-- Create index "customers_public_key_key" to table: "customers"
CREATE UNIQUE INDEX `customers_public_key_key` ON `customers` (`public_key`);
-- Create index "customers_user_id_key" to table: "customers"
CREATE UNIQUE INDEX `customers_user_id_key` ON `customers` (`user_id`);
-- Create "document_files" table
CREATE TABLE `document_files` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `filename` text NOT NULL, `content_type` text NOT NULL, `size` integer NOT NULL, `sha256` text NOT NULL, `content` blob NOT NULL, `procedure_id` integer NOT NULL, CONSTRAINT `document_files_procedures_files` FOREIGN KEY (`procedure_id`) REFERENCES `procedures` (`id`) ON DELETE NO ACTION, CONSTRAINT `document_file_size_positive` CHECK (size > 0));
-- Set sequence for "document_files" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("document_files", 51539607552);
-- Create "entries" table
CREATE TABLE `entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `amount` integer NOT NULL, `balance_after` integer NOT NULL, `memo` text NULL, `version` integer NOT NULL, `booked_at` datetime NOT NULL, `account_id` integer NOT NULL, `counterparty_account_id` integer NOT NULL, `transaction_id` integer NOT NULL, CONSTRAINT `entries_accounts_entries` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `entries_accounts_counterparty_account` FOREIGN KEY (`counterparty_account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `entries_transactions_entries` FOREIGN KEY (`transaction_id`) REFERENCES `transactions` (`id`) ON DELETE NO ACTION, CONSTRAINT `entry_amount_nonzero` CHECK (amount <> 0));
-- Set sequence for "entries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("entries", 8589934592);
-- Create index "entry_account_id_version" to table: "entries"
CREATE UNIQUE INDEX `entry_account_id_version` ON `entries` (`account_id`, `version`);
-- Create index "entry_account_id_booked_at" to table: "entries"
CREATE INDEX `entry_account_id_booked_at` ON `entries` (`account_id`, `booked_at`);
-- Create "persons" table
CREATE TABLE `persons` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `census_number` integer NOT NULL, `first_name` text NOT NULL, `last_name1` text NOT NULL, `last_name2` text NULL, `document_type` text NOT NULL, `document_id` text NOT NULL, `document_scope_code` text NOT NULL, `born_at` datetime NOT NULL, `gender` text NOT NULL, `address` text NOT NULL, `address_scope_code` text NOT NULL, `postal_code` text NOT NULL, `email` text NULL, `scope_code` text NOT NULL, `phone` text NULL, `state` text NOT NULL DEFAULT ('PENDING'), `membership_level` text NOT NULL DEFAULT ('FOLLOWER'), `verification` text NOT NULL DEFAULT ('NOT_VERIFIED'), `phone_verification` text NOT NULL DEFAULT ('NOT_VERIFIED'), `external_ids` json NULL, `additional_information` json NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, CONSTRAINT `person_census_number_positive` CHECK (census_number > 0));
-- Set sequence for "persons" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("persons", 55834574848);
-- Create index "persons_census_number_key" to table: "persons"
CREATE UNIQUE INDEX `persons_census_number_key` ON `persons` (`census_number`);
-- Create index "persons_document_id_key" to table: "persons"
CREATE UNIQUE INDEX `persons_document_id_key` ON `persons` (`document_id`);
-- Create index "person_phone" to table: "persons"
CREATE INDEX `person_phone` ON `persons` (`phone`);
-- Create "person_external_ids" table
CREATE TABLE `person_external_ids` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `system` text NOT NULL, `value` text NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `person_external_ids_persons_external_id_rows` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "person_external_ids" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("person_external_ids", 60129542144);
-- Create index "personexternalid_system_value" to table: "person_external_ids"
CREATE UNIQUE INDEX `personexternalid_system_value` ON `person_external_ids` (`system`, `value`);
-- Create index "personexternalid_person_id" to table: "person_external_ids"
CREATE INDEX `personexternalid_person_id` ON `person_external_ids` (`person_id`);
-- Create "person_versions" table
CREATE TABLE `person_versions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `valid_from` datetime NOT NULL, `snapshot` json NOT NULL, `procedure_id` integer NULL, `changed_by_id` integer NULL, `created_at` datetime NOT NULL, `person_id` integer NOT NULL, CONSTRAINT `person_versions_persons_versions` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION);
-- Set sequence for "person_versions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("person_versions", 64424509440);
-- Create index "personversion_person_id_valid_from" to table: "person_versions"
CREATE INDEX `personversion_person_id_valid_from` ON `person_versions` (`person_id`, `valid_from`);
-- Create "procedures" table
CREATE TABLE `procedures` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `state` text NOT NULL DEFAULT ('PENDING'), `information` json NULL, `prioritized` bool NOT NULL DEFAULT (false), `created_at` datetime NOT NULL, `processed_at` datetime NULL, `comment` text NULL, `person_id` integer NOT NULL, `created_by_id` integer NULL, `processed_by_id` integer NULL, CONSTRAINT `procedures_persons_procedures` FOREIGN KEY (`person_id`) REFERENCES `persons` (`id`) ON DELETE NO ACTION, CONSTRAINT `procedures_users_created_by` FOREIGN KEY (`created_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `procedures_users_processed_by` FOREIGN KEY (`processed_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Set sequence for "procedures" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("procedures", 68719476736);
-- Create index "procedure_person_id_state" to table: "procedures"
CREATE INDEX `procedure_person_id_state` ON `procedures` (`person_id`, `state`);
-- Create "savings_goals" table
CREATE TABLE `savings_goals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `goal` integer NOT NULL, `created_at` datetime NOT NULL, `deleted_at` datetime NULL, `customer_id` integer NOT NULL, `account_id` integer NOT NULL, CONSTRAINT `savings_goals_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `savings_goals_accounts_account` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `savings_goal_positive` CHECK (goal > 0));
-- Set sequence for "savings_goals" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("savings_goals", 47244640256);
-- Create "scopes" table
CREATE TABLE `scopes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `scope_type` text NOT NULL, `code` text NOT NULL, `mappings` json NULL);
-- Set sequence for "scopes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("scopes", 73014444032);
-- Create index "scopes_code_key" to table: "scopes"
CREATE UNIQUE INDEX `scopes_code_key` ON `scopes` (`code`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` blob NOT NULL, `created_at` datetime NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `user_id` integer NOT NULL, CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Set sequence for "sessions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("sessions", 12884901888);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create "settings" table
CREATE TABLE `settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `value` blob NOT NULL);
-- Set sequence for "settings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("settings", 30064771072);
-- Create index "settings_name_key" to table: "settings"
CREATE UNIQUE INDEX `settings_name_key` ON `settings` (`name`);
-- Create "transactions" table
CREATE TABLE `transactions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `status` text NOT NULL, `amount` integer NOT NULL, `memo` text NULL, `created_at` datetime NOT NULL, `target_date` datetime NULL, `posted_at` datetime NULL, `voided_at` datetime NULL, `idempotency_key` text NULL, `request_hash` blob NULL, `debit_account_id` integer NOT NULL, `credit_account_id` integer NOT NULL, `initiator_id` integer NULL, CONSTRAINT `transactions_accounts_debit_account` FOREIGN KEY (`debit_account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `transactions_accounts_credit_account` FOREIGN KEY (`credit_account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `transactions_users_initiator` FOREIGN KEY (`initiator_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `transaction_amount_positive` CHECK (amount > 0), CONSTRAINT `transaction_two_accounts` CHECK (debit_account_id <> credit_account_id));
-- Set sequence for "transactions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("transactions", 17179869184);
-- Create index "transaction_initiator_id_idempotency_key" to table: "transactions"
CREATE UNIQUE INDEX `transaction_initiator_id_idempotency_key` ON `transactions` (`initiator_id`, `idempotency_key`);
-- Create index "transaction_debit_account_id_status" to table: "transactions"
CREATE INDEX `transaction_debit_account_id_status` ON `transactions` (`debit_account_id`, `status`);
-- Create index "transaction_credit_account_id_status" to table: "transactions"
CREATE INDEX `transaction_credit_account_id_status` ON `transactions` (`credit_account_id`, `status`);
-- Create index "transaction_credit_account_id_kind_target_date" to table: "transactions"
CREATE INDEX `transaction_credit_account_id_kind_target_date` ON `transactions` (`credit_account_id`, `kind`, `target_date`);
-- Create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `email` text NULL, `phone` text NULL, `password_hash` text NOT NULL, `role` text NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `two_factor` text NOT NULL DEFAULT ('NONE'), `failed_logins` integer NOT NULL DEFAULT (0), `locked_until` datetime NULL, `created_at` datetime NOT NULL);
-- Set sequence for "users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 21474836480);
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create index "users_phone_key" to table: "users"
CREATE UNIQUE INDEX `users_phone_key` ON `users` (`phone`);
