package ledger

import (
	"regexp"

	"entgo.io/ent/dialect"
)

// PostingSQL holds the statements that change balances, written out instead of built on every
// call: every transfer runs them, and building SQL text through ent's builders was a measurable
// share of a transfer's CPU. They are in PostgreSQL's dialect; make bench runs these very texts as the
// limit it measures coffer against, so the limit is coffer's SQL by construction.
//
// Arguments, in order:
//   - InsertTransaction: kind, status, amount, memo, debit account, credit account, created at,
//     target date, posted at, initiator, idempotency key, request hash; returns the id.
//   - Debit: amount (negative), account, amount to cover (positive); returns balance and version.
//     It matches no row when the account is closed or the amount is not covered.
//   - DebitReserved: amount (negative), the same amount (released from the reservation), account,
//     the reservation to release (positive); matches no row when the reservation is missing.
//   - Credit: amount, account; matches no row when the account is closed.
//   - InsertEntries: two rows of account, transaction, counterparty, type, amount, memo,
//     balance after, version, booked at.
//   - Reserve (a pending transaction): amount, account, amount to cover; the same condition as
//     Debit, counting what is already reserved. Release (voiding it): amount (negative), account,
//     the reservation to release (positive).
var PostingSQL = struct {
	InsertTransaction, Debit, DebitReserved, Credit, InsertEntries, Reserve, Release string
}{
	InsertTransaction: `INSERT INTO "transactions" ("kind", "status", "amount", "memo", "debit_account_id", "credit_account_id",
		"created_at", "target_date", "posted_at", "initiator_id", "idempotency_key", "request_hash")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING "id"`,
	Debit: `UPDATE "accounts" SET "balance" = "balance" + $1, "version" = "version" + 1
		WHERE "id" = $2 AND "closed_at" IS NULL AND ("allow_negative" OR "balance" - "reserved" + "debit_limit" >= $3)
		RETURNING "balance", "version"`,
	DebitReserved: `UPDATE "accounts" SET "balance" = "balance" + $1, "reserved" = "reserved" + $2, "version" = "version" + 1
		WHERE "id" = $3 AND "reserved" >= $4 RETURNING "balance", "version"`,
	Credit: `UPDATE "accounts" SET "balance" = "balance" + $1, "version" = "version" + 1
		WHERE "id" = $2 AND "closed_at" IS NULL RETURNING "balance", "version"`,
	InsertEntries: `INSERT INTO "entries" ("account_id", "transaction_id", "counterparty_account_id", "type", "amount", "memo",
		"balance_after", "version", "booked_at")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)`,
	Reserve: `UPDATE "accounts" SET "reserved" = "reserved" + $1
		WHERE "id" = $2 AND "closed_at" IS NULL AND ("allow_negative" OR "balance" - "reserved" + "debit_limit" >= $3)`,
	Release: `UPDATE "accounts" SET "reserved" = "reserved" + $1 WHERE "id" = $2 AND "reserved" >= $3`,
}

// postingSQL is PostingSQL in the ledger's dialect.
type postingSQL struct {
	insertTransaction, debit, debitReserved, credit, insertEntries, reserve, release string
}

var pgArg = regexp.MustCompile(`\$[0-9]+`)

func postingSQLFor(d string) postingSQL {
	in := func(q string) string {
		if d == dialect.Postgres {
			return q
		}
		// SQLite binds "?" in order; every statement above numbers its arguments in order too.
		return pgArg.ReplaceAllString(q, "?")
	}
	return postingSQL{
		insertTransaction: in(PostingSQL.InsertTransaction), debit: in(PostingSQL.Debit),
		debitReserved: in(PostingSQL.DebitReserved), credit: in(PostingSQL.Credit),
		insertEntries: in(PostingSQL.InsertEntries), reserve: in(PostingSQL.Reserve), release: in(PostingSQL.Release),
	}
}
