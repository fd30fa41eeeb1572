-- Create index "accounts_iban_trgm" to table: "accounts"
CREATE INDEX "accounts_iban_trgm" ON "accounts" USING gin ("iban" gin_trgm_ops);
-- Create index "customers_name_trgm" to table: "customers"
CREATE INDEX "customers_name_trgm" ON "customers" USING gin ("name" gin_trgm_ops);
-- Create index "users_email_trgm" to table: "users"
CREATE INDEX "users_email_trgm" ON "users" USING gin ("email" gin_trgm_ops);
-- Create index "users_phone_trgm" to table: "users"
CREATE INDEX "users_phone_trgm" ON "users" USING gin ("phone" gin_trgm_ops);
-- Create index "users_username_trgm" to table: "users"
CREATE INDEX "users_username_trgm" ON "users" USING gin ("username" gin_trgm_ops);
