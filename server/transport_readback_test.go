package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMutationPayloads_edgesOfWhatTheyCreated_load checks that what a mutation returns can be
// followed to its related objects in the same request: the objects were created in a database
// transaction that has ended by the time the edges are read.
func TestMutationPayloads_edgesOfWhatTheyCreated_load(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, store)
			admin := s.admin()
			var created struct {
				CreateCustomer struct {
					User    struct{ Username string }
					Account struct{ Iban string }
				}
			}
			s.mustDo(admin, `mutation { createCustomer(input: {username: "rita", password: "rita-password",
				name: "Rita", email: "rita@example.com"}) { user { username } account { iban } } }`, nil, &created)
			if created.CreateCustomer.User.Username != "rita" || created.CreateCustomer.Account.Iban == "" {
				t.Errorf("createCustomer = %+v, want its user and account", created)
			}
			var status struct {
				SetUserStatus struct {
					Status   string
					Customer struct{ Name string }
				}
			}
			s.mustDo(admin, `mutation { setUserStatus(username: "rita", status: LOCKED) { status customer { name } } }`, nil, &status)
			if status.SetUserStatus.Status != "LOCKED" || status.SetUserStatus.Customer.Name != "Rita" {
				t.Errorf("setUserStatus = %+v, want LOCKED with customer Rita", status)
			}
			s.mustDo(admin, `mutation { setUserStatus(username: "rita", status: ACTIVE) { status } }`, nil, nil)

			rita := s.login("rita", "rita-password")
			s.customer(admin, "sam")
			s.mint(admin, "rita", "10")
			rbWantSettledEntries(t, s, rita)
			var card struct {
				CreateCard struct {
					Card struct {
						Account struct{ Kind string }
						Balance struct{ Amount string }
					}
				}
			}
			s.mustDo(rita, `mutation { createCard { card { account { kind } balance { amount } } } }`, nil, &card)
			if card.CreateCard.Card.Account.Kind != "CARD" || card.CreateCard.Card.Balance.Amount != "0.00" {
				t.Errorf("createCard = %+v, want its CARD account", card)
			}
		})
	}
}

// rbWantSettledEntries checks that what confirmTransaction and cancelTransaction return carries
// the transaction's entries: one pending transfer of rita's (holding 10) to sam each.
func rbWantSettledEntries(t *testing.T, s *testServer, rita string) {
	t.Helper()
	type settled struct {
		Status  string
		Entries []struct {
			Amount  struct{ Amount string }
			Account struct{ Number string }
		}
	}
	for _, op := range []string{"confirmTransaction", "cancelTransaction"} {
		id := eaSendID(t, s, rita, "sam", "2.50", false)
		r := s.do(rita, `mutation($id: ID!) { `+op+`(id: $id) { status entries { amount { amount } account { number } } } }`,
			map[string]any{"id": id})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", op, r.Errors)
		}
		var out map[string]settled
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatal(err)
		}
		got := out[op]
		if len(got.Entries) == 0 && op == "confirmTransaction" || got.Status == "PENDING" {
			t.Errorf("%s = %+v, want its entries readable", op, got)
		}
		for _, e := range got.Entries {
			if e.Amount.Amount != "2.50" || e.Account.Number == "" {
				t.Errorf("%s entry = %+v", op, e)
			}
		}
	}
}

func TestCreateCoins_withoutTargetDate_mintsForNow_retrySameKeyOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, "postgres")
	admin := s.admin()
	ann := s.customer(admin, "ann")
	mint := `mutation { createCoins(input: {recipient: {username: "ann"}, amount: "5", idempotencyKey: "m-1"}) { id targetDate } }`
	var first, again struct {
		CreateCoins struct{ ID, TargetDate string }
	}
	before := time.Now().UTC()
	s.mustDo(admin, mint, nil, &first)
	s.mustDo(admin, mint, nil, &again)
	target, err := time.Parse(time.RFC3339, first.CreateCoins.TargetDate)
	if err != nil || target.Before(before.Add(-time.Minute)) || target.After(time.Now().Add(time.Minute)) {
		t.Errorf("targetDate = %q, want now", first.CreateCoins.TargetDate)
	}
	if again.CreateCoins.ID != first.CreateCoins.ID {
		t.Errorf("retry = %s, want the first transaction %s", again.CreateCoins.ID, first.CreateCoins.ID)
	}
	if got := s.balance(ann); got != "5.00" {
		t.Errorf("balance %s, want 5.00 (minted once)", got)
	}
}
