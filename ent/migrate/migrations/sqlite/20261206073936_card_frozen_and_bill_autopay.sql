-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_bills" table
CREATE TABLE `new_bills` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `amount` integer NOT NULL, `due_date` datetime NOT NULL, `created_at` datetime NOT NULL, `paid_at` datetime NULL, `autopay_error` text NULL, `customer_id` integer NOT NULL, `paid_with_card_id` integer NULL, `transaction_id` integer NULL, `autopay_card_id` integer NULL, CONSTRAINT `bills_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `bills_cards_paid_with` FOREIGN KEY (`paid_with_card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `bills_transactions_transaction` FOREIGN KEY (`transaction_id`) REFERENCES `transactions` (`id`) ON DELETE SET NULL, CONSTRAINT `bills_cards_autopay_card` FOREIGN KEY (`autopay_card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `bill_amount_positive` CHECK (amount > 0));
-- Set sequence for "new_bills" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_bills", 34359738368);
-- Copy rows from old table "bills" to new temporary table "new_bills"
INSERT INTO `new_bills` (`id`, `name`, `amount`, `due_date`, `created_at`, `paid_at`, `customer_id`, `paid_with_card_id`, `transaction_id`) SELECT `id`, `name`, `amount`, `due_date`, `created_at`, `paid_at`, `customer_id`, `paid_with_card_id`, `transaction_id` FROM `bills`;
-- Drop "bills" table after copying rows
DROP TABLE `bills`;
-- Rename temporary table "new_bills" to "bills"
ALTER TABLE `new_bills` RENAME TO `bills`;
-- Create index "bill_customer_id_due_date" to table: "bills"
CREATE INDEX `bill_customer_id_due_date` ON `bills` (`customer_id`, `due_date`);
-- Create index "bill_autopay_card_id_due_date" to table: "bills"
CREATE INDEX `bill_autopay_card_id_due_date` ON `bills` (`autopay_card_id`, `due_date`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
