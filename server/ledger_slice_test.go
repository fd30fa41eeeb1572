package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSlice_adminMintsCustomerSendsAndReadsStatement walks the foundation's path: an admin creates
// two customers and mints to one, who logs in, sends coins and reads the statement.
func TestSlice_adminMintsCustomerSendsAndReadsStatement(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			admin := s.admin()
			alice := s.customer(admin, "alice")
			bob := s.customer(admin, "bob")
			s.mint(admin, "alice", "100.50")
			if got := s.balance(alice); got != "100.50" {
				t.Fatalf("alice after mint = %s, want 100.50", got)
			}
			r := s.send(alice, "bob", "10.25", map[string]any{"memo": "lunch"})
			if len(r.Errors) > 0 {
				t.Fatalf("send: %+v", r.Errors)
			}
			if a, b := s.balance(alice), s.balance(bob); a != "90.25" || b != "10.25" {
				t.Fatalf("balances alice=%s bob=%s, want 90.25 and 10.25", a, b)
			}
			var out struct {
				Me struct {
					Customer struct {
						Account struct {
							Entries struct {
								TotalCount int
								Edges      []struct {
									Node struct {
										Type         string
										Amount       struct{ Amount string }
										BalanceAfter struct{ Amount string }
										Memo         *string
										Version      int
										Counterparty struct {
											Name  string
											Email *string
										}
									}
								}
							}
						}
					}
				}
			}
			s.mustDo(alice, `{ me { customer { account { entries(first: 10) { totalCount edges { node {
				type amount { amount } balanceAfter { amount } memo version counterparty { name email } } } } } } } }`, nil, &out)
			e := out.Me.Customer.Account.Entries
			if e.TotalCount != 2 || len(e.Edges) != 2 {
				t.Fatalf("statement = %+v, want 2 entries", e)
			}
			newest, oldest := e.Edges[0].Node, e.Edges[1].Node
			if newest.Type != "SEND" || newest.Amount.Amount != "10.25" || newest.BalanceAfter.Amount != "90.25" ||
				newest.Version != 2 || newest.Memo == nil || *newest.Memo != "lunch" ||
				newest.Counterparty.Name != "Bob" || newest.Counterparty.Email == nil || *newest.Counterparty.Email != "bob@example.com" {
				t.Errorf("newest entry = %+v", newest)
			}
			if oldest.Type != "CREATION" || oldest.Amount.Amount != "100.50" || oldest.BalanceAfter.Amount != "100.50" || oldest.Version != 1 {
				t.Errorf("oldest entry = %+v", oldest)
			}
		})
	}
}

// TestSendCoins_concurrentClients_conserveMoney runs 400 random transfers from 16 clients between
// 10 funded customers, some failing for funds, then checks the ledger's invariants in the database.
func TestSendCoins_concurrentClients_conserveMoney(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, st)
			admin := s.admin()
			const customers = 10
			tokens := make([]string, customers)
			names := make([]string, customers)
			for i := range customers {
				names[i] = fmt.Sprintf("user%02d", i)
				tokens[i] = s.customer(admin, names[i])
				s.mint(admin, names[i], "50.00")
			}
			const clients, transfers = 16, 400
			var next, ok, funds atomic.Int64
			var wg sync.WaitGroup
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rnd := rand.New(rand.NewPCG(uint64(c), 7))
					for next.Add(1) <= transfers {
						from := rnd.IntN(customers)
						to := (from + 1 + rnd.IntN(customers-1)) % customers
						amount := fmt.Sprintf("%d.%02d", rnd.IntN(30), rnd.IntN(100))
						if amount == "0.00" {
							amount = "0.01"
						}
						r, err := s.post(tokens[from], `mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
							map[string]any{"in": map[string]any{"recipient": map[string]any{"username": names[to]}, "amount": amount}})
						switch {
						case err != nil:
							t.Error(err)
						case len(r.Errors) == 0:
							ok.Add(1)
						case r.code() == "INSUFFICIENT_FUNDS":
							funds.Add(1)
						default:
							t.Errorf("sendCoins: %+v", r.Errors)
						}
					}
				}()
			}
			wg.Wait()
			if funds.Load() == 0 || ok.Load() == 0 {
				t.Errorf("want both successes and INSUFFICIENT_FUNDS, got %d and %d", ok.Load(), funds.Load())
			}
			checkLedgerInvariants(t, s, admin, int(ok.Load()))
		})
	}
}
