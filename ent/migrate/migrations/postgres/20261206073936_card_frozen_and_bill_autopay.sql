-- Modify "bills" table
ALTER TABLE "bills" ADD COLUMN "autopay_error" character varying NULL, ADD COLUMN "autopay_card_id" bigint NULL, ADD CONSTRAINT "bills_cards_autopay_card" FOREIGN KEY ("autopay_card_id") REFERENCES "cards" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "bill_autopay_card_id_due_date" to table: "bills"
CREATE INDEX "bill_autopay_card_id_due_date" ON "bills" ("autopay_card_id", "due_date");
