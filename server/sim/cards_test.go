package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRecordCards_seed86281_answerLostToAFaultCountsAgainstTheCardLimit replays what seed 86281
// (the 30-minute PostgreSQL run with faults, docs/simulator.md) saw for customer cu33:
// regress.parallelCards sent 14 createCard at once while PostgreSQL was being stopped; 9 answered
// a card, one PRECONDITION_FAILED (the limit of 10 was reached), four INTERNAL. Three of those
// failed before anything was written, but one had committed its card and failed reading the
// answer's card.account. The model counted 9 cards, so every later createCard's
// PRECONDITION_FAILED was a violation. An answer lost to a fault must count as a card that may
// exist: the limit's refusal is then allowed.
func TestRecordCards_seed86281_answerLostToAFaultCountsAgainstTheCardLimit(t *testing.T) {
	var log strings.Builder
	s := newSim(context.Background(), &env{}, options{out: &log}, 86281)
	w := &worker{rng: rand.New(rand.NewPCG(86281, 0))}
	c := &customer{username: "cu33"}
	var replies []reply
	for i := range 9 {
		replies = append(replies, reply{Data: json.RawMessage(fmt.Sprintf(
			`{"createCard":{"card":{"id":"card%d","account":{"id":"acct%d"}},"number":"400000000000000%d"}}`, i, i, i))})
	}
	replies = append(replies, failed("PRECONDITION_FAILED", "at most 10 cards at a time"))
	for range 4 {
		replies = append(replies, failed("INTERNAL", "internal error"))
	}
	s.e.beginFault() // the pgstop under way
	if ok := s.recordCards(w, "regress.parallelCards", c, replies); ok != 9 {
		t.Errorf("recordCards: %d cards made, want 9", ok)
	}
	s.e.endFault()
	if n := len(c.liveCards()); n != 9 || c.unknownCards != 4 {
		t.Errorf("model after the parallel createCards: %d live cards, %d unknown; want 9 and 4", n, c.unknownCards)
	}
	allowed := s.createCardAllowed(c)
	if !slices.Contains(allowed, "PRECONDITION_FAILED") || !slices.Contains(allowed, "") {
		t.Errorf("createCard with 9 known and 4 unknown cards may answer %q, want a card or PRECONDITION_FAILED", allowed)
	}
	// The next createCard (step 827 of the seed): the server counts the tenth card it made.
	w.step = 827
	if k := s.recordCard(w, "createCard", c, failed("PRECONDITION_FAILED", "at most 10 cards at a time"), allowed...); k != nil {
		t.Errorf("a refused createCard added card %s to the model", k.id)
	}
	if len(s.violations) > 0 || len(c.liveCards()) != 9 {
		t.Errorf("%d violations, %d live cards after the refusal; want none and 9:\n%s", len(s.violations), len(c.liveCards()), log.String())
	}
}

// failed is an answer with one error of code.
func failed(code, message string) reply {
	var e gqlError
	e.Message, e.Extensions.Code = message, code
	return reply{Data: json.RawMessage(`{"createCard":null}`), Errors: []gqlError{e}}
}
