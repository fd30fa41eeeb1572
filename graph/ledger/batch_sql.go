package ledger

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"coffer/ent"
	"coffer/ent/transaction"
)

// The statements of a batch in the ledger's dialect, and their arguments (BatchRows). They are
// exported so that make bench runs these very texts, with the same arguments, as the batched
// limit it measures coffer against.
//
// On PostgreSQL each statement has one text whatever the batch's size: every column of its rows
// travels as one array parameter, unnested by the statement, so PostgreSQL parses and plans a
// few short statements instead of a VALUES list of up to 18 parameters a posting (planning that
// list was most of a batch's database time). On SQLite, which has no arrays, the rows are a
// VALUES list built for the batch's size.
//
//   - LockAccountsSQL(d, accounts): one column, the account ids; returns id, balance, reserved,
//     debit limit, allow negative, open, version per account, in id order, locked.
//   - InsertTransactionsSQL(d, postings): PostingSQL.InsertTransaction's twelve columns;
//     returns id, debit account, credit account, amount per row.
//   - UpdateAccountsSQL(d, accounts): account, balance change, version increment; returns id,
//     balance, version of each changed row.
//   - InsertEntriesSQL(d, postings): PostingSQL.InsertEntries' nine columns, two rows (debit,
//     credit) per posting.

// LockAccountsSQL reads and locks accounts rows in id order (FOR UPDATE on PostgreSQL; SQLite's
// single writer holds the immediate transaction already).
func LockAccountsSQL(d string, accounts int) string {
	const q = `SELECT "id", "balance", "reserved", "debit_limit", "allow_negative", "closed_at" IS NULL, "version" FROM "accounts" WHERE "id" `
	if d == dialect.Postgres {
		return q + `= ANY($1::bigint[]) ORDER BY "id" FOR UPDATE`
	}
	var b strings.Builder
	b.WriteString(q + "IN ")
	writeRows(&b, 1, accounts, 0)
	b.WriteString(` ORDER BY "id"`)
	return b.String()
}

// InsertTransactionsSQL writes postings transaction rows in one INSERT. The times travel as
// text (RFC 3339) and the request hash as hexadecimal text (BatchRows).
func InsertTransactionsSQL(d string, postings int) string {
	const q = `INSERT INTO "transactions" ("kind", "status", "amount", "memo", "debit_account_id", "credit_account_id", "created_at", "target_date", "posted_at", "initiator_id", "idempotency_key", "request_hash") `
	const returning = ` RETURNING "id", "debit_account_id", "credit_account_id", "amount"`
	if d == dialect.Postgres {
		return q + `SELECT "kind", "status", "amount", "memo", "debit", "credit", "created", "target", "posted", "initiator", "key", decode("hash", 'hex') ` +
			`FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::text[], $12::text[]) ` +
			`AS "r" ("kind", "status", "amount", "memo", "debit", "credit", "created", "target", "posted", "initiator", "key", "hash")` + returning
	}
	var b strings.Builder
	b.WriteString(q + "VALUES ")
	writeRows(&b, postings, 12, 0)
	b.WriteString(returning)
	return b.String()
}

// UpdateAccountsSQL adds each account's balance change and version increment in one UPDATE.
// On SQLite the first row's casts type the VALUES columns.
func UpdateAccountsSQL(d string, accounts int) string {
	const update = ` UPDATE "accounts" SET "balance" = "balance" + "v"."delta", "version" = "version" + "v"."increment" FROM "v" WHERE "id" = "v"."account" RETURNING "id", "balance", "version"`
	if d == dialect.Postgres {
		return `WITH "v" ("account", "delta", "increment") AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]))` + update
	}
	var b strings.Builder
	b.WriteString(`WITH "v" ("account", "delta", "increment") AS (VALUES `)
	writeRows(&b, accounts, 3, 1)
	b.WriteString(`)` + update)
	return b.String()
}

// InsertEntriesSQL writes both entries of postings in one INSERT.
func InsertEntriesSQL(d string, postings int) string {
	const q = `INSERT INTO "entries" ("account_id", "transaction_id", "counterparty_account_id", "type", "amount", "memo", "balance_after", "version", "booked_at") `
	if d == dialect.Postgres {
		return q + `SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::timestamptz[])`
	}
	var b strings.Builder
	b.WriteString(q + "VALUES ")
	writeRows(&b, 2*postings, 9, 0)
	return b.String()
}

// WriteBatchSQL (PostgreSQL only) is InsertTransactionsSQL, UpdateAccountsSQL and
// InsertEntriesSQL in one statement, with data-modifying CTEs: one round trip instead of three
// (six with lib/pq, which describes an unprepared statement before running it). Its parameters
// are theirs in that order ($1-$12, $13-$15, $16-$24), except that an entry's second column is
// its posting's position in the transactions' rows (1, 2, ...) instead of the transaction id,
// which the statement takes from the row inserted at that position: ids come from one sequence,
// drawn in the rows' order, so numbering the inserted rows by id restores it. It returns a row
// ('t', id, debit account, credit account, amount) per transaction, in that order, and a row
// ('a', id, balance, version, 0) per changed account.
func WriteBatchSQL() string { return writeBatchSQL() }

var writeBatchSQL = sync.OnceValue(func() string {
	return `WITH "t" AS (` + InsertTransactionsSQL(dialect.Postgres, 0) + `), ` +
		`"n" AS (SELECT "id", "debit_account_id", "credit_account_id", "amount", row_number() OVER (ORDER BY "id") AS "k" FROM "t"), ` +
		`"u" AS (UPDATE "accounts" SET "balance" = "balance" + "v"."delta", "version" = "version" + "v"."increment" ` +
		`FROM unnest($13::bigint[], $14::bigint[], $15::bigint[]) AS "v" ("account", "delta", "increment") ` +
		`WHERE "id" = "v"."account" RETURNING "accounts"."id", "accounts"."balance", "accounts"."version"), ` +
		`"e" AS (INSERT INTO "entries" ("account_id", "transaction_id", "counterparty_account_id", "type", "amount", "memo", "balance_after", "version", "booked_at") ` +
		`SELECT "x"."account", "n"."id", "x"."counterparty", "x"."type", "x"."amount", "x"."memo", "x"."after", "x"."version", "x"."booked" ` +
		`FROM unnest($16::bigint[], $17::bigint[], $18::bigint[], $19::text[], $20::bigint[], $21::text[], $22::bigint[], $23::bigint[], $24::timestamptz[]) ` +
		`AS "x" ("account", "k", "counterparty", "type", "amount", "memo", "after", "version", "booked") JOIN "n" ON "n"."k" = "x"."k") ` +
		`SELECT 't', "id", "debit_account_id", "credit_account_id", "amount" FROM "n" ` +
		`UNION ALL SELECT 'a', "id", "balance", "version", 0 FROM "u"`
})

// writeRows writes rows tuples of width "?" parameters (SQLite), separated by commas; the first
// castRows rows cast their parameters to bigint.
func writeRows(b *strings.Builder, rows, width, castRows int) {
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < width; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			if r < castRows {
				b.WriteString("CAST(? AS bigint)")
			} else {
				b.WriteString("?")
			}
		}
		b.WriteByte(')')
	}
}

// BatchRows are the arguments of one of the batch statements above, added a row at a time:
// on PostgreSQL one array a column, on SQLite one parameter a value. A value is nil (NULL), an
// int or int64, a string, a time.Time or *time.Time (a nil pointer is NULL), or a []byte (nil
// is NULL; hexadecimal text on PostgreSQL, which InsertTransactionsSQL decodes).
type BatchRows struct {
	postgres bool
	cols     [][]any
	flat     []any
	n        int
}

// NewBatchRows returns empty rows of width columns for dialect d.
func NewBatchRows(d string, width int) *BatchRows {
	r := &BatchRows{postgres: d == dialect.Postgres}
	if r.postgres {
		r.cols = make([][]any, width)
	}
	return r
}

// Add appends a row; it must have a value for every column.
func (r *BatchRows) Add(values ...any) {
	r.n++
	if !r.postgres {
		r.flat = append(r.flat, values...)
		return
	}
	if len(values) != len(r.cols) {
		panic(fmt.Sprintf("ledger: a row of %d values for %d columns", len(values), len(r.cols)))
	}
	for c, v := range values {
		r.cols[c] = append(r.cols[c], arrayValue(v))
	}
}

// Len is the number of rows added.
func (r *BatchRows) Len() int { return r.n }

// Args are the statement's arguments.
func (r *BatchRows) Args() []any {
	if !r.postgres {
		return r.flat
	}
	args := make([]any, len(r.cols))
	for c, col := range r.cols {
		args[c] = pq.GenericArray{A: col}
	}
	return args
}

// arrayValue is v as an element of a PostgreSQL array parameter: times as RFC 3339 text (an
// array literal's elements are text), bytes as hexadecimal text.
func arrayValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if v == nil {
			return nil
		}
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		if v == nil {
			return nil
		}
		return hex.EncodeToString(v)
	case *int:
		if v == nil {
			return nil
		}
		return int64(*v)
	case *string:
		if v == nil {
			return nil
		}
		return *v
	case int:
		return int64(v)
	}
	return v
}

// batchWrite is what a batch writes: its transaction rows, its accounts' changes and its
// entries, as BatchRows, and what it expects the database to answer.
type batchWrite struct {
	transactions, changes, entries *BatchRows
	moves                          []Move           // the posted moves, in the rows' order
	changed                        []*lockedAccount // the changed accounts, in id order
}

// newBatchWrite builds the transaction rows and the accounts' changes of the posted postings.
func (l *Ledger) newBatchWrite(batch []*waiting, posted []int, accounts map[int]*lockedAccount, now time.Time) batchWrite {
	w := batchWrite{transactions: NewBatchRows(l.Dialect, 12), changes: NewBatchRows(l.Dialect, 3)}
	for _, i := range posted {
		m := batch[i].p.Move
		w.moves = append(w.moves, m)
		var initiator *int
		if m.InitiatorID != 0 {
			initiator = &m.InitiatorID
		}
		var keyValue *string
		var fingerprint []byte
		if m.Key != nil {
			keyValue, fingerprint = &m.Key.Value, m.Key.Fingerprint
		}
		w.transactions.Add(string(m.Kind), string(transaction.StatusPOSTED), m.AmountMinor, m.Memo, m.DebitID, m.CreditID,
			now, m.TargetDate, &now, initiator, keyValue, fingerprint)
	}
	for _, a := range accounts {
		if a.increment > 0 {
			w.changed = append(w.changed, a)
		}
	}
	slices.SortFunc(w.changed, func(a, b *lockedAccount) int { return a.id - b.id })
	for _, a := range w.changed {
		w.changes.Add(a.id, a.deltaMinor, a.increment)
	}
	return w
}

// addEntries builds the entries of w's moves, two per move (legs); entryTxn gives an entry's
// second column for the n-th move: its transaction id, or its position for WriteBatchSQL.
func (w *batchWrite) addEntries(d string, legs []leg, now time.Time, entryTxn func(n int) int) {
	w.entries = NewBatchRows(d, 9)
	for n, m := range w.moves {
		for _, lg := range legs[2*n : 2*n+2] {
			w.entries.Add(lg.accountID, entryTxn(n), lg.counterpartyID, string(entryType(m.Kind, lg.amountMinor)),
				lg.amountMinor, m.Memo, lg.balanceAfter, lg.version, now)
		}
	}
}

// writeBatch writes the posted postings and returns their transaction ids in the postings'
// order: one statement on PostgreSQL (WriteBatchSQL), three on SQLite.
func (l *Ledger) writeBatch(ctx context.Context, tx *ent.Tx, q Querier, batch []*waiting, posted []int, legs []leg,
	accounts map[int]*lockedAccount, now time.Time) ([]int, error) {
	w := l.newBatchWrite(batch, posted, accounts, now)
	if l.Dialect == dialect.Postgres {
		w.addEntries(l.Dialect, legs, now, func(n int) int { return n + 1 })
		args := append(append(w.transactions.Args(), w.changes.Args()...), w.entries.Args()...)
		rows, err := q.QueryContext(ctx, WriteBatchSQL(), args...)
		if err != nil {
			return nil, fmt.Errorf("ledger: write batch: %w", err)
		}
		defer rows.Close()
		var got []written
		var changed []accountRow
		for rows.Next() {
			var kind string
			var a, b, c, d int64
			if err := rows.Scan(&kind, &a, &b, &c, &d); err != nil {
				return nil, fmt.Errorf("ledger: write batch: %w", err)
			}
			if kind == "t" {
				got = append(got, written{id: int(a), debit: int(b), credit: int(c), amountMinor: d})
			} else {
				changed = append(changed, accountRow{id: int(a), balance: b, version: c})
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: write batch: %w", err)
		}
		if err := w.checkAccounts(accounts, changed); err != nil {
			return nil, err
		}
		return w.checkTransactions(got)
	}
	ids, err := l.insertTransactions(ctx, tx, w)
	if err != nil {
		return nil, err
	}
	if err := l.updateAccounts(ctx, tx, w, accounts); err != nil {
		return nil, err
	}
	w.addEntries(l.Dialect, legs, now, func(n int) int { return ids[n] })
	if _, err := tx.ExecContext(ctx, InsertEntriesSQL(l.Dialect, len(posted)), w.entries.Args()...); err != nil {
		return nil, fmt.Errorf("ledger: insert entries: %w", err)
	}
	return ids, nil
}

// written is a transaction row as the database returned it.
type written struct {
	id, debit, credit int
	amountMinor       int64
}

// accountRow is a changed account as the database returned it.
type accountRow struct {
	id               int
	balance, version int64
}

// checkTransactions returns the ids of the rows written for w's moves, in the moves' order. Ids
// come from one sequence, drawn row by row in the rows' order, so sorting the returned rows by id
// restores that order; the returned accounts and amounts assert it.
func (w batchWrite) checkTransactions(got []written) ([]int, error) {
	slices.SortFunc(got, func(a, b written) int { return a.id - b.id })
	if len(got) != len(w.moves) {
		return nil, fmt.Errorf("ledger: insert transactions: %d rows for %d postings", len(got), len(w.moves))
	}
	ids := make([]int, len(w.moves))
	for n, m := range w.moves {
		if g := got[n]; g.debit != m.DebitID || g.credit != m.CreditID || g.amountMinor != m.AmountMinor {
			return nil, fmt.Errorf("ledger: insert transactions: row %d is not posting %d", g.id, n)
		}
		ids[n] = got[n].id
	}
	return ids, nil
}

// checkAccounts asserts that the database agrees with the balances and versions the batch
// computed under its locks.
func (w batchWrite) checkAccounts(accounts map[int]*lockedAccount, got []accountRow) error {
	for _, r := range got {
		if a := accounts[r.id]; a == nil || a.balance != r.balance || a.version != r.version {
			return fmt.Errorf("ledger: update accounts: account %d is at balance %d version %d, not as computed", r.id, r.balance, r.version)
		}
	}
	if len(got) != len(w.changed) {
		return fmt.Errorf("ledger: update accounts: %d rows for %d accounts", len(got), len(w.changed))
	}
	return nil
}

// insertTransactions writes w's transaction rows (SQLite) and returns their ids in order.
func (l *Ledger) insertTransactions(ctx context.Context, tx *ent.Tx, w batchWrite) ([]int, error) {
	rows, err := tx.QueryContext(ctx, InsertTransactionsSQL(l.Dialect, w.transactions.Len()), w.transactions.Args()...)
	if err != nil {
		return nil, fmt.Errorf("ledger: insert transactions: %w", err)
	}
	defer rows.Close()
	var got []written
	for rows.Next() {
		var g written
		if err := rows.Scan(&g.id, &g.debit, &g.credit, &g.amountMinor); err != nil {
			return nil, fmt.Errorf("ledger: insert transactions: %w", err)
		}
		got = append(got, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: insert transactions: %w", err)
	}
	return w.checkTransactions(got)
}

// updateAccounts adds the batch's changes to the accounts it changed (SQLite).
func (l *Ledger) updateAccounts(ctx context.Context, tx *ent.Tx, w batchWrite, accounts map[int]*lockedAccount) error {
	rows, err := tx.QueryContext(ctx, UpdateAccountsSQL(l.Dialect, w.changes.Len()), w.changes.Args()...)
	if err != nil {
		return fmt.Errorf("ledger: update accounts: %w", err)
	}
	defer rows.Close()
	var got []accountRow
	for rows.Next() {
		var r accountRow
		if err := rows.Scan(&r.id, &r.balance, &r.version); err != nil {
			return fmt.Errorf("ledger: update accounts: %w", err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: update accounts: %w", err)
	}
	return w.checkAccounts(accounts, got)
}
