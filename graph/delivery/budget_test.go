package delivery

import (
	"errors"
	"testing"
	"time"

	"coffer/graph/apperr"
)

func TestBudget_perDestinationAndGlobal_refuseWithTheWait(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	b := NewBudget(BudgetConfig{SMSPerDestinationPerHour: 2, SMSGlobalPerHour: 3, EmailPerDestinationPerHour: 1,
		Now: func() time.Time { return now }})
	for range 2 {
		if err := b.Take(ChannelSMS, "+34600000001"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Check(ChannelSMS, "+34600000001"); !apperr.Is(err, apperr.TooManyRequests) {
		t.Errorf("Check after the destination's budget = %v, want TOO_MANY_REQUESTS", err)
	}
	err := b.Take(ChannelSMS, "+34600000001")
	var ae *apperr.Error
	if !apperr.Is(err, apperr.TooManyRequests) || !errors.As(err, &ae) || ae.RetryAfterSeconds != 1800 {
		t.Errorf("third SMS to one number = %+v, want TOO_MANY_REQUESTS after 1800 s", err)
	}
	// The refused one spent nothing from the global budget: one more number gets its SMS.
	if err := b.Take(ChannelSMS, "+34600000002"); err != nil {
		t.Fatalf("another number: %v", err)
	}
	if err := b.Take(ChannelSMS, "+34600000003"); !apperr.Is(err, apperr.TooManyRequests) {
		t.Errorf("beyond the global budget = %v, want TOO_MANY_REQUESTS", err)
	}
	// E-mail has its own budgets; addresses differing in case share one.
	if err := b.Take(ChannelEmail, "Ana@Example.com"); err != nil {
		t.Fatal(err)
	}
	if err := b.Take(ChannelEmail, "ana@example.com "); !apperr.Is(err, apperr.TooManyRequests) {
		t.Errorf("second e-mail to one address = %v, want TOO_MANY_REQUESTS", err)
	}
	// An hour later every budget is whole again.
	now = now.Add(time.Hour)
	if err := b.Take(ChannelSMS, "+34600000001"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
	// Zero turns a budget off; a nil Budget sends without bound.
	var none *Budget
	if err := none.Take(ChannelSMS, "+34600000001"); err != nil {
		t.Errorf("nil budget: %v", err)
	}
	if err := NewBudget(BudgetConfig{}).Take(ChannelEmail, "a@b.c"); err != nil {
		t.Errorf("zero budgets: %v", err)
	}
}
