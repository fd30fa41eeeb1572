package main

import (
	"fmt"
	"testing"
)

// TestSavingsGoals_oneAccountReadForAllGoals proves with the statements PostgreSQL ran that a
// goal's balance, remain and reached come from one read of its account (products.GoalProgress),
// not one per field: a list of goals reads their accounts with the goals, in one statement,
// whatever the number of goals, and the answers agree with what was saved.
func TestSavingsGoals_oneAccountReadForAllGoals(t *testing.T) {
	t.Parallel()
	s, counter := newCountedServer(t)
	admin := s.admin()
	ann := s.customer(admin, "ann")
	s.mint(admin, "ann", "100")
	var card struct {
		CreateCard struct{ Card struct{ ID string } }
	}
	s.mustDo(ann, `mutation { createCard { card { id } } }`, nil, &card)
	cardID := card.CreateCard.Card.ID
	s.mustDo(ann, `mutation($in: CardMoveInput!) { fundCard(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"cardId": cardID, "amount": "100"}}, nil)
	const query = `{ savingsGoals { name goal { amount } balance { amount } remain { amount } reached } }`
	type goal struct {
		Name    string
		Balance struct{ Amount string }
		Remain  struct{ Amount string }
		Reached bool
	}
	var perGoals []float64
	for i := range 5 {
		var g struct{ CreateSavingsGoal struct{ ID string } }
		s.mustDo(ann, `mutation($in: CreateSavingsGoalInput!) { createSavingsGoal(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": fmt.Sprint("goal ", i), "goal": "10"}}, &g)
		s.mustDo(ann, `mutation($in: SavingsMoveInput!) { topUpSavings(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"savingsGoalId": g.CreateSavingsGoal.ID, "cardId": cardID, "amount": fmt.Sprint(4 * (i + 1))}}, nil)
		if i != 0 && i != 4 {
			continue
		}
		var out struct{ SavingsGoals []goal }
		s.mustDo(ann, query, nil, &out)
		for j, g := range out.SavingsGoals { // goal j holds 4(j+1) of 10
			saved := 4 * (j + 1)
			want := goal{Name: fmt.Sprint("goal ", j), Reached: saved >= 10}
			want.Balance.Amount, want.Remain.Amount = fmt.Sprintf("%d.00", saved), fmt.Sprintf("%d.00", max(10-saved, 0))
			if g != want {
				t.Errorf("goal %d = %+v, want %+v", j, g, want)
			}
		}
		got, list := counter.perRequest(3, func() { s.mustDo(ann, query, nil, nil) })
		// Reads of balances by id (the live notifier's reads of versions do not count).
		reads := counter.calls(`SELECT %"accounts"."balance"% FROM "accounts" WHERE "accounts"."id" %`)
		t.Logf("%d goals: %.1f statements, %d account reads in 3 requests", len(out.SavingsGoals), got, reads)
		if reads > 3 {
			t.Errorf("%d goals: %d reads of accounts by id in 3 requests, want one per request:%s", len(out.SavingsGoals), reads, list)
		}
		perGoals = append(perGoals, got)
	}
	if perGoals[0] != perGoals[1] {
		t.Errorf("statements for 1 goal %.1f, for 5 goals %.1f: the count grows with the goals", perGoals[0], perGoals[1])
	}
}
