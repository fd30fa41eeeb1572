package delivery

import (
	"context"
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

type countingSender struct{ sent []Message }

func (c *countingSender) Send(_ context.Context, m Message) error {
	c.sent = append(c.sent, m)
	return nil
}

func TestWithBudget_everyMessageSpends_refusedOnesNeverReachTheTransport(t *testing.T) {
	next := &countingSender{}
	s := WithBudget(next, NewBudget(BudgetConfig{EmailPerDestinationPerHour: 2}))
	m := Message{Channel: ChannelEmail, To: "ana@example.com", Subject: "code", Text: "123456", Code: "123456"}
	for i := range 3 {
		err := s.Send(context.Background(), m)
		if want := i < 2; (err == nil) != want {
			t.Errorf("message %d: %v, want sent %v", i+1, err, want)
		}
	}
	if len(next.sent) != 2 {
		t.Errorf("the transport got %d messages, want 2", len(next.sent))
	}
	if WithBudget(next, nil) != Sender(next) {
		t.Error("WithBudget(nil) wraps: want the sender itself")
	}
}
