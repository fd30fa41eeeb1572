package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"coffer/graph/ledger"
)

// benchCase is one line of the report: a workload run at every client count.
type benchCase struct {
	key   string // the JSON name
	label string
	// server is the process serving the case (its CPU is reported), nil for the raw SQL.
	server *child
	op     op
	// sized, when set, replaces op: at n clients the case runs workers closed-loop workers whose
	// every op is perOp transfers (a batch); its rate and op count are per transfer.
	sized func(n int) (workers, perOp int, o op)
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

// rawTransfer is the limit: the statements of coffer's transfer, the very texts its ledger runs
// (ledger.PostingSQL: BEGIN, the transaction row, the conditional debit and the credit in
// account-id order, both entries in one INSERT, COMMIT), with the arguments a sendCoins gives
// them, sent straight through database/sql + lib/pq from the benchmark process, with the same
// accounts as the GraphQL case: client i debits sender i and credits a random recipient. With
// notify, each transaction also runs pg_notify.
func rawTransfer(db *sql.DB, p *population, notify bool) op {
	q := ledger.PostingSQL
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
		initiator := &from.userID
		err = tx.QueryRowContext(ctx, q.InsertTransaction, "TRANSFER", "POSTED", transferAmountMinor, "",
			from.accountID, to.accountID, now, (*time.Time)(nil), &now, initiator, (*string)(nil), []byte(nil)).Scan(&txnID)
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
				err = tx.QueryRowContext(ctx, q.Debit, l.amount, l.account, -l.amount).Scan(&l.after, &l.ver)
			} else {
				err = tx.QueryRowContext(ctx, q.Credit, l.amount, l.account).Scan(&l.after, &l.ver)
			}
			if err != nil {
				return fmt.Errorf("account %d: %w", l.account, err)
			}
		}
		_, err = tx.ExecContext(ctx, q.InsertEntries,
			debit.account, txnID, debit.counterparty, "SEND", debit.amount, "", debit.after, debit.ver, now,
			credit.account, txnID, credit.counterparty, "RECEIVE", credit.amount, "", credit.after, credit.ver, now)
		if err != nil {
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
