// The identity resolvers' inputs and answers (graph/identity.graphqls).

package graph

import (
	"context"

	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/model"
	"coffer/graph/transport"
)

// authPayload answers a started session and sets the session cookie.
func (r *Resolver) authPayload(ctx context.Context, s *identity.Session) *model.AuthPayload {
	transport.SetSessionCookie(ctx, s.Token, s.ExpiresAt)
	return &model.AuthPayload{Token: s.Token, User: s.User, ExpiresAt: s.ExpiresAt}
}

func contact(email, phone, ssn string) identity.Contact {
	return identity.Contact{Email: email, Phone: phone, SocialSecurity: ssn}
}

func channelOf(m model.AuthenticationMode) delivery.Channel {
	if m == model.AuthenticationModeMobile {
		return delivery.ChannelSMS
	}
	return delivery.ChannelEmail
}
