package graph

import (
	"context"
	"strings"

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

var errTooMany = apperr.New(apperr.TooManyRequests, "too many attempts: wait a minute and try again")

// throttle counts one attempt at op on account (a login name, e-mail, challenge id) from the
// request's client address, and refuses it past either limit. Unknown accounts are counted like
// known ones, so the limit tells nothing about who exists.
func (r *Resolver) throttle(ctx context.Context, op, account string) error {
	if l := r.Limits.PerAddress; l != nil && !l.Allow(transport.From(ctx).ClientAddr) {
		return errTooMany
	}
	if l := r.Limits.PerAccount; l != nil && account != "" {
		if !l.Allow(op + "\x00" + strings.ToLower(strings.TrimSpace(account))) {
			return errTooMany
		}
	}
	return nil
}
