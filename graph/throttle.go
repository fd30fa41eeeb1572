package graph

import (
	"context"
	"strings"
	"time"

	"coffer/graph/apperr"
	"coffer/graph/ratelimit"
	"coffer/graph/transport"
)

// AuthLimits are the rate limits on authentication and code operations: one budget per client
// address shared by all of them, and one per operation and account. A nil limiter is off.
type AuthLimits struct {
	PerAddress *ratelimit.Limiter
	PerAccount *ratelimit.Limiter
}

// tooMany is the refusal of an attempt past a limit, with the wait (extensions.retryAfter).
func tooMany(wait time.Duration) error {
	return apperr.TooMany(wait, "too many attempts: wait a minute and try again")
}

// throttle counts one attempt at op on account (a login name, e-mail, challenge id) from the
// request's client address, and refuses it past either limit. Unknown accounts are counted like
// known ones, so the limit tells nothing about who exists.
func (r *Resolver) throttle(ctx context.Context, op, account string) error {
	if l := r.Limits.PerAddress; l != nil {
		if ok, wait := l.Try(transport.From(ctx).ClientAddr); !ok {
			return tooMany(wait)
		}
	}
	if l := r.Limits.PerAccount; l != nil && account != "" {
		if ok, wait := l.Try(op + "\x00" + strings.ToLower(strings.TrimSpace(account))); !ok {
			return tooMany(wait)
		}
	}
	return nil
}
