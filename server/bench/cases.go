package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// benchCase is one line of the report: a workload run at every client count.
type benchCase struct {
	key   string // the JSON name
	label string
	// server is the process serving the case (its CPU is reported), nil for the raw SQL.
	server *child
	op     op
}

// The GraphQL operations of the workload.
const (
	sendCoinsQuery = `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id status } }`
	balanceQuery   = `{ me { customer { balance { amount } } } }`
	// statementQuery is the statement's first page with counterparties; %d is the page size.
	statementQuery = `{ me { customer { account { entries(first: %d) { edges { node {
		type amount { amount } balanceAfter { amount } memo bookedAt counterparty { name email publicKey iban } } } } } } } }`
	// accountQuery reaches the statement's account without reading the statement: what
	// statementQuery costs beyond it is the page.
	accountQuery = `{ me { customer { account { id } } } }`
	// notifyChannel is where the raw SQL with NOTIFY announces each transfer; a listener is
	// connected, as the live-balance fan-out would be.
	notifyChannel = "coffer_bench"
)

// transferAmountMinor is what every benchmark transfer moves (0.01): senders never run dry.
const transferAmountMinor = 1

// rawTransfer is the limit: the statements of coffer's transfer (BEGIN, the transaction row, the
// conditional debit and the credit in account-id order, both entries in one INSERT, COMMIT; the
// SQL text of each as coffer's ledger issues it), sent straight through database/sql + lib/pq
// from the benchmark process, with the same accounts as the GraphQL case: client i debits
// sender i and credits a random recipient. With notify, each transaction also runs pg_notify.
func rawTransfer(db *sql.DB, p *population, notify bool) op {
	return func(ctx context.Context, client int, rng *rand.Rand) error {
		from := p.senders[client]
		to := p.recipients[rng.IntN(len(p.recipients))]
		now := time.Now().UTC()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var txnID int
		err = tx.QueryRowContext(ctx, `INSERT INTO "transactions" ("kind", "status", "amount", "memo", "created_at", "posted_at",
			"debit_account_id", "credit_account_id", "initiator_id") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING "id"`,
			"TRANSFER", "POSTED", transferAmountMinor, "", now, now, from.accountID, to.accountID, from.userID).Scan(&txnID)
		if err != nil {
			return err
		}
		type leg struct {
			account, counterparty int
			amount, after, ver    int64
		}
		debit := &leg{account: from.accountID, counterparty: to.accountID, amount: -transferAmountMinor}
		credit := &leg{account: to.accountID, counterparty: from.accountID, amount: transferAmountMinor}
		ordered := []*leg{debit, credit}
		if credit.account < debit.account {
			ordered = []*leg{credit, debit}
		}
		for _, l := range ordered {
			var err error
			if l == debit {
				err = tx.QueryRowContext(ctx, `UPDATE "accounts" SET "balance" = COALESCE("accounts"."balance", $5) + $1,
					"version" = COALESCE("accounts"."version", $6) + $2 WHERE "id" = $3 AND "closed_at" IS NULL
					AND (allow_negative OR balance - reserved + debit_limit >= $4) RETURNING "balance", "version"`,
					l.amount, 1, l.account, -l.amount, 0, 0).Scan(&l.after, &l.ver)
			} else {
				err = tx.QueryRowContext(ctx, `UPDATE "accounts" SET "balance" = COALESCE("accounts"."balance", $4) + $1,
					"version" = COALESCE("accounts"."version", $5) + $2 WHERE "id" = $3 AND "closed_at" IS NULL
					RETURNING "balance", "version"`, l.amount, 1, l.account, 0, 0).Scan(&l.after, &l.ver)
			}
			if err != nil {
				return fmt.Errorf("account %d: %w", l.account, err)
			}
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO "entries" ("account_id", "amount", "balance_after", "booked_at",
			"counterparty_account_id", "memo", "transaction_id", "type", "version")
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING "id"`,
			debit.account, debit.amount, debit.after, now, debit.counterparty, "", txnID, "SEND", debit.ver,
			credit.account, credit.amount, credit.after, now, credit.counterparty, "", txnID, "RECEIVE", credit.ver)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if notify {
			payload := strconv.Itoa(debit.account) + "," + strconv.Itoa(credit.account)
			if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, payload); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
}

// cofferTransfer is sendCoins with autoSign over HTTP with the sender's session token, the same
// account pattern as rawTransfer. No idempotency key: the raw SQL has no key look-up either.
func cofferTransfer(c *wireClient, p *population) op {
	// One body per recipient, encoded before the clock starts: the load generator shares the
	// cores with the server, and the raw SQL case encodes nothing either.
	bodies := make([][]byte, len(p.recipients))
	for i, to := range p.recipients {
		bodies[i] = body(sendCoinsQuery, map[string]any{"in": map[string]any{
			"recipient": map[string]any{"username": to.username}, "amount": "0.01", "autoSign": true}})
	}
	return func(ctx context.Context, client int, rng *rand.Rand) error {
		r, err := c.post(ctx, client, p.senders[client].token, bodies[rng.IntN(len(bodies))])
		if err != nil {
			return err
		}
		return r.err()
	}
}

// query posts the same operation for every request, as the client's own sender.
func query(c *wireClient, p *population, q string) op {
	b := body(q, nil)
	return func(ctx context.Context, client int, rng *rand.Rand) error {
		r, err := c.post(ctx, client, p.senders[client].token, b)
		if err != nil {
			return err
		}
		return r.err()
	}
}

// newHTTPClient keeps one connection per benchmark client alive. It serves seeding, logins and
// statement counting; the measured loops use wireClient.
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute,
			DisableCompression: true,
		},
	}
}
