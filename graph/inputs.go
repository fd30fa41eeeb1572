package graph

import (
	"context"

	"coffer/graph/coins"
	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/model"
	"coffer/graph/transport"
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func recipient(in *model.RecipientInput) coins.Recipient {
	if in == nil {
		return coins.Recipient{}
	}
	return coins.Recipient{Email: deref(in.Email), Username: deref(in.Username), PublicKey: deref(in.PublicKey), IBAN: deref(in.Iban)}
}

// recipientKey is the recipient as part of an idempotency fingerprint.
func recipientKey(in *model.RecipientInput) string {
	r := recipient(in)
	return r.Email + "\x00" + r.Username + "\x00" + r.PublicKey + "\x00" + r.IBAN
}

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
