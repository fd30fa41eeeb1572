package delivery

import (
	"context"
	"strings"
	"time"

	"coffer/graph/apperr"
	"coffer/graph/ratelimit"
)

// Budget bounds how many messages leave per hour, per channel: to one destination (a phone
// number, an e-mail address), and in all. An SMS costs the bank money and a message floods its
// recipient, so neither an attacker nor a bug may send without bound (SMS pumping, mail bombs).
// The budgets are per server instance, like the rate limits.
//
// WithBudget spends it in the Sender itself, the one way out for every message, queued or not;
// a flow that must answer its caller synchronously asks Check first, before it stores anything.
type Budget struct {
	perDestination map[Channel]*ratelimit.Limiter
	global         map[Channel]*ratelimit.Limiter
}

// BudgetConfig holds the hourly counts; zero or less turns that budget off.
type BudgetConfig struct {
	SMSPerDestinationPerHour, SMSGlobalPerHour     int
	EmailPerDestinationPerHour, EmailGlobalPerHour int
	// Now is the clock, default time.Now (tests move it).
	Now func() time.Time
}

// NewBudget builds the budgets of cfg.
func NewBudget(cfg BudgetConfig) *Budget {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	limiter := func(perHour int) *ratelimit.Limiter {
		return ratelimit.New(perHour, time.Hour, ratelimit.WithClock(now))
	}
	return &Budget{
		perDestination: map[Channel]*ratelimit.Limiter{
			ChannelSMS: limiter(cfg.SMSPerDestinationPerHour), ChannelEmail: limiter(cfg.EmailPerDestinationPerHour),
		},
		global: map[Channel]*ratelimit.Limiter{
			ChannelSMS: limiter(cfg.SMSGlobalPerHour), ChannelEmail: limiter(cfg.EmailGlobalPerHour),
		},
	}
}

// overBudgetMessage is the client's message of a refusal: TOO_MANY_REQUESTS with
// extensions.retryAfter.
const overBudgetMessage = "too many messages to this destination: try again later"

// Check reports, without spending anything, whether one message on ch to to is within both
// budgets: a flow that must refuse before it stores anything asks first, then Take spends.
func (b *Budget) Check(ch Channel, to string) error {
	if b == nil {
		return nil
	}
	if ok, wait := peek(b.global[ch], string(ch)); !ok {
		return overBudget(wait)
	}
	if ok, wait := peek(b.perDestination[ch], destinationKey(ch, to)); !ok {
		return overBudget(wait)
	}
	return nil
}

// Take spends one message on ch to to from both budgets, or refuses (TOO_MANY_REQUESTS with the
// wait) and spends nothing from the global one.
func (b *Budget) Take(ch Channel, to string) error {
	if b == nil {
		return nil
	}
	if ok, wait := peek(b.global[ch], string(ch)); !ok {
		return overBudget(wait)
	}
	if ok, wait := try(b.perDestination[ch], destinationKey(ch, to)); !ok {
		return overBudget(wait)
	}
	// A concurrent Take may have spent the last global message since the Peek; the destination's
	// message is then spent too, which errs on the side of sending less.
	if ok, wait := try(b.global[ch], string(ch)); !ok {
		return overBudget(wait)
	}
	return nil
}

// WithBudget returns a Sender that spends b on every message before next sends it, and refuses
// (TOO_MANY_REQUESTS, nothing sent) beyond it. A nil b sends without bound.
func WithBudget(next Sender, b *Budget) Sender {
	if b == nil {
		return next
	}
	return budgetedSender{next: next, budget: b}
}

type budgetedSender struct {
	next   Sender
	budget *Budget
}

func (s budgetedSender) Send(ctx context.Context, m Message) error {
	if err := s.budget.Take(m.Channel, m.To); err != nil {
		return err
	}
	return s.next.Send(ctx, m)
}

// destinationKey folds case and spaces so that "Ana@X.com " and "ana@x.com" share one budget.
func destinationKey(ch Channel, to string) string {
	return string(ch) + "\x00" + strings.ToLower(strings.TrimSpace(to))
}

// peek and try treat a channel without a budget (an unknown one, refused later) as within it.
func peek(l *ratelimit.Limiter, key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	return l.Peek(key)
}

func try(l *ratelimit.Limiter, key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	return l.Try(key)
}

func overBudget(wait time.Duration) error {
	return apperr.TooMany(wait, overBudgetMessage)
}
