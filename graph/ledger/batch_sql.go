package ledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"coffer/ent"
	"coffer/ent/transaction"
)

// The statements of a batch, built for its sizes in the ledger's dialect. They are exported so
// that make bench runs these very texts as the batched limit it measures coffer against.
//
//   - LockAccountsSQL(d, accounts): the account ids, ascending; returns id, balance, reserved,
//     debit limit, allow negative, open, version per account, in id order, locked.
//   - InsertTransactionsSQL(d, postings): PostingSQL.InsertTransaction's twelve arguments per
//     posting; returns id, debit account, credit account, amount per row.
//   - UpdateAccountsSQL(d, accounts): account, balance change, version increment per account;
//     returns id, balance, version of each changed row.
//   - InsertEntriesSQL(d, postings): PostingSQL.InsertEntries' nine arguments per entry, two
//     entries (debit, credit) per posting.

// LockAccountsSQL reads and locks accounts rows in id order (FOR UPDATE on PostgreSQL; SQLite's
// single writer holds the immediate transaction already).
func LockAccountsSQL(d string, accounts int) string {
	var b strings.Builder
	b.WriteString(`SELECT "id", "balance", "reserved", "debit_limit", "allow_negative", "closed_at" IS NULL, "version" FROM "accounts" WHERE "id" IN `)
	writeRows(&b, d, 1, accounts, 0)
	b.WriteString(` ORDER BY "id"`)
	if d == dialect.Postgres {
		b.WriteString(" FOR UPDATE")
	}
	return b.String()
}

// InsertTransactionsSQL writes postings transaction rows in one INSERT.
func InsertTransactionsSQL(d string, postings int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "transactions" ("kind", "status", "amount", "memo", "debit_account_id", "credit_account_id", "created_at", "target_date", "posted_at", "initiator_id", "idempotency_key", "request_hash") VALUES `)
	writeRows(&b, d, postings, 12, 0)
	b.WriteString(` RETURNING "id", "debit_account_id", "credit_account_id", "amount"`)
	return b.String()
}

// UpdateAccountsSQL adds each account's balance change and version increment in one UPDATE.
// The first row's casts type the VALUES columns for PostgreSQL (its parameters are otherwise
// text); SQLite accepts the same CAST.
func UpdateAccountsSQL(d string, accounts int) string {
	var b strings.Builder
	b.WriteString(`WITH "v" ("account", "delta", "increment") AS (VALUES `)
	writeRows(&b, d, accounts, 3, 1)
	b.WriteString(`) UPDATE "accounts" SET "balance" = "balance" + "v"."delta", "version" = "version" + "v"."increment" FROM "v" WHERE "id" = "v"."account" RETURNING "id", "balance", "version"`)
	return b.String()
}

// InsertEntriesSQL writes both entries of postings in one INSERT.
func InsertEntriesSQL(d string, postings int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "entries" ("account_id", "transaction_id", "counterparty_account_id", "type", "amount", "memo", "balance_after", "version", "booked_at") VALUES `)
	writeRows(&b, d, 2*postings, 9, 0)
	return b.String()
}

// writeRows writes rows tuples of width parameters, separated by commas, numbered from 1 on
// PostgreSQL; the first castRows rows cast their parameters to bigint.
func writeRows(b *strings.Builder, d string, rows, width, castRows int) {
	n := 0
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < width; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			p := "?"
			if d == dialect.Postgres {
				p = "$" + strconv.Itoa(n)
			}
			if r < castRows {
				p = "CAST(" + p + " AS bigint)"
			}
			b.WriteString(p)
		}
		b.WriteByte(')')
	}
}

// insertTransactions writes the posted postings' transaction rows and returns their ids in the
// postings' order. Ids come from one sequence, drawn row by row in the VALUES order, so sorting
// the returned rows by id restores that order; the returned accounts and amounts assert it.
func (l *Ledger) insertTransactions(ctx context.Context, tx *ent.Tx, batch []*waiting, posted []int, now time.Time) ([]int, error) {
	args := make([]any, 0, 12*len(posted))
	for _, i := range posted {
		m := batch[i].p.Move
		var initiator *int
		if m.InitiatorID != 0 {
			initiator = &m.InitiatorID
		}
		var keyValue *string
		var fingerprint []byte
		if m.Key != nil {
			keyValue, fingerprint = &m.Key.Value, m.Key.Fingerprint
		}
		args = append(args, string(m.Kind), string(transaction.StatusPOSTED), m.AmountMinor, m.Memo, m.DebitID, m.CreditID,
			now, m.TargetDate, &now, initiator, keyValue, fingerprint)
	}
	rows, err := tx.QueryContext(ctx, InsertTransactionsSQL(l.Dialect, len(posted)), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: insert transactions: %w", err)
	}
	defer rows.Close()
	type written struct {
		id, debit, credit int
		amountMinor       int64
	}
	got := make([]written, 0, len(posted))
	for rows.Next() {
		var w written
		if err := rows.Scan(&w.id, &w.debit, &w.credit, &w.amountMinor); err != nil {
			return nil, fmt.Errorf("ledger: insert transactions: %w", err)
		}
		got = append(got, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: insert transactions: %w", err)
	}
	slices.SortFunc(got, func(a, b written) int { return a.id - b.id })
	if len(got) != len(posted) {
		return nil, fmt.Errorf("ledger: insert transactions: %d rows for %d postings", len(got), len(posted))
	}
	ids := make([]int, len(posted))
	for n, i := range posted {
		m := batch[i].p.Move
		if g := got[n]; g.debit != m.DebitID || g.credit != m.CreditID || g.amountMinor != m.AmountMinor {
			return nil, fmt.Errorf("ledger: insert transactions: row %d is not posting %d", g.id, n)
		}
		ids[n] = got[n].id
	}
	return ids, rows.Close()
}

// updateAccounts adds the batch's changes to the accounts it changed and asserts that the
// database agrees with the balances and versions the batch computed under its locks.
func (l *Ledger) updateAccounts(ctx context.Context, tx *ent.Tx, accounts map[int]*lockedAccount) error {
	changed := make([]*lockedAccount, 0, len(accounts))
	for _, a := range accounts {
		if a.increment > 0 {
			changed = append(changed, a)
		}
	}
	slices.SortFunc(changed, func(a, b *lockedAccount) int { return a.id - b.id })
	args := make([]any, 0, 3*len(changed))
	for _, a := range changed {
		args = append(args, a.id, a.deltaMinor, a.increment)
	}
	rows, err := tx.QueryContext(ctx, UpdateAccountsSQL(l.Dialect, len(changed)), args...)
	if err != nil {
		return fmt.Errorf("ledger: update accounts: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int
		var balance, version int64
		if err := rows.Scan(&id, &balance, &version); err != nil {
			return fmt.Errorf("ledger: update accounts: %w", err)
		}
		if a := accounts[id]; a == nil || a.balance != balance || a.version != version {
			return fmt.Errorf("ledger: update accounts: account %d is at balance %d version %d, not as computed", id, balance, version)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: update accounts: %w", err)
	}
	if n != len(changed) {
		return fmt.Errorf("ledger: update accounts: %d rows for %d accounts", n, len(changed))
	}
	return rows.Close()
}

// insertBatchEntries writes both entries of every posted posting in one INSERT.
func (l *Ledger) insertBatchEntries(ctx context.Context, tx *ent.Tx, batch []*waiting, posted, ids []int, legs []leg, now time.Time) error {
	args := make([]any, 0, 18*len(posted))
	for n, i := range posted {
		m := batch[i].p.Move
		for _, lg := range legs[2*n : 2*n+2] {
			args = append(args, lg.accountID, ids[n], lg.counterpartyID, string(entryType(m.Kind, lg.amountMinor)),
				lg.amountMinor, m.Memo, lg.balanceAfter, lg.version, now)
		}
	}
	if _, err := tx.ExecContext(ctx, InsertEntriesSQL(l.Dialect, len(posted)), args...); err != nil {
		return fmt.Errorf("ledger: insert entries: %w", err)
	}
	return nil
}
