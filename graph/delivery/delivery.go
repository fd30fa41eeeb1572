// Package delivery is how one-time codes and links reach people: e-mail over SMTP, SMS through a
// JSON webhook, and an outbox file (one JSON object a line) that development and tests read.
//
// Nothing here logs: a message carries a secret code, and its text contains it.
package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel is the way a message travels.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Message is one code or link to deliver.
type Message struct {
	Channel Channel // ChannelEmail or ChannelSMS
	To      string  // e-mail address or E.164 phone ("+4915112345678")
	Subject string  // e-mail only; required there
	Text    string  // the whole human text, code included
	Code    string  // the code itself, written to the outbox so development and tests can read it
}

// Sender delivers a message; an error means it was NOT delivered and must reach the caller.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config says which transports exist. Every field is optional.
type Config struct {
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when offered, port 587 by default) or
	// smtps://user:pass@host:port (implicit TLS, port 465 by default). A user name containing
	// "@" is percent-encoded ("user%40example.com"). Without user info nothing authenticates.
	SMTPURL string
	// SMSWebhookURL receives a JSON POST {"to": ..., "text": ...} per SMS.
	SMSWebhookURL string
	// OutboxFile, when set, gets every message as one JSON line, in addition to the transports.
	OutboxFile string
	// From is the e-mail sender, default "coffer <no-reply@localhost>".
	From string
	// Now is the clock for the outbox's "at" and the e-mail's Date, default time.Now.
	Now func() time.Time
	// HTTPClient posts to the SMS webhook. Default: a client with a 10 s timeout that does not
	// follow redirects (a followed 301/302 would turn the POST into a GET and report success).
	HTTPClient *http.Client
	// TLSConfig verifies the SMTP server (STARTTLS and smtps), e.g. RootCAs for a private CA.
	// Default: the system roots; ServerName is always set to the URL's host when empty.
	TLSConfig *tls.Config
}

// DefaultFrom is the e-mail sender when Config.From is empty.
const DefaultFrom = "coffer <no-reply@localhost>"

// Limits on what one message may hold; codes and links are short, so these are generous.
const (
	maxAddressBytes = 254 // RFC 5321's limit on a forward path
	maxSubjectBytes = 255
	maxTextBytes    = 16 << 10
	maxCodeBytes    = 512
)

var (
	// ErrInvalidMessage is matched (errors.Is) by every error Send returns for a message it
	// refuses to send: unknown channel, malformed recipient, header injection, missing parts.
	ErrInvalidMessage = errors.New("delivery: invalid message")
	// ErrNoTransport is matched (errors.Is) by the error Send returns for a channel that neither
	// a transport nor the outbox is configured to carry.
	ErrNoTransport = errors.New("delivery: no transport configured")
)

// transport carries messages of one channel to people.
type transport interface {
	send(ctx context.Context, m Message) error
}

// sender fans a message out to the outbox and the channel's transport.
type sender struct {
	email  transport // nil: no SMTP
	sms    transport // nil: no webhook
	outbox *outbox   // nil: no outbox file
}

var _ Sender = (*sender)(nil)

// New builds the configured sender: SMTP for e-mail when SMTPURL is set, the SMS webhook for SMS
// when SMSWebhookURL is set, and the outbox file (always written when set, in addition to the
// others). A channel with no transport and no outbox is an error at Send time (ErrNoTransport).
// New fails on a malformed URL, From address or an outbox file it cannot open.
func New(cfg Config) (Sender, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &sender{}
	if cfg.SMTPURL != "" {
		t, err := newSMTPTransport(cfg, now)
		if err != nil {
			return nil, err
		}
		s.email = t
	}
	if cfg.SMSWebhookURL != "" {
		t, err := newSMSTransport(cfg.SMSWebhookURL, cfg.HTTPClient)
		if err != nil {
			return nil, err
		}
		s.sms = t
	}
	if cfg.OutboxFile != "" {
		o, err := newOutbox(cfg.OutboxFile, now)
		if err != nil {
			return nil, err
		}
		s.outbox = o
	}
	return s, nil
}

// Send writes the outbox line first, then hands the message to the channel's transport. The
// outbox is local and cheap: if it fails nothing has left the process, so the error still means
// "not delivered". A line may therefore record a message whose transport then failed; the
// caller got that error and discards the challenge, so the code in that line is dead.
func (s *sender) Send(ctx context.Context, m Message) error {
	if err := validate(m); err != nil {
		return err
	}
	var t transport
	switch m.Channel {
	case ChannelEmail:
		t = s.email
	case ChannelSMS:
		t = s.sms
	}
	if t == nil && s.outbox == nil {
		return noTransportError{channel: m.Channel}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	if s.outbox != nil {
		if err := s.outbox.write(m); err != nil {
			return err
		}
	}
	if t != nil {
		return t.send(ctx, m)
	}
	return nil
}

type noTransportError struct{ channel Channel }

func (e noTransportError) Error() string {
	name := "e-mail"
	if e.channel == ChannelSMS {
		name = "SMS"
	}
	return "delivery: no " + name + " transport configured"
}

func (e noTransportError) Is(target error) bool { return target == ErrNoTransport }

// e164 is a phone number in E.164 form: "+", a country code not starting with 0, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// validate refuses a message that cannot be sent safely. To and Subject become header lines, so
// a CR or LF in them would let the caller's input write headers (or a second message): refused.
func validate(m Message) error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
	}
	if hasLineBreak(m.To) || hasLineBreak(m.Subject) {
		return invalid("line break in recipient or subject (header injection)")
	}
	if hasControl(m.To) || hasControl(m.Subject) {
		return invalid("control character in recipient or subject")
	}
	switch m.Channel {
	case ChannelEmail:
		if m.To == "" || len(m.To) > maxAddressBytes {
			return invalid("e-mail recipient empty or longer than %d bytes", maxAddressBytes)
		}
		if _, err := mail.ParseAddress(m.To); err != nil {
			return invalid("recipient is not an e-mail address")
		}
		if strings.TrimSpace(m.Subject) == "" {
			return invalid("e-mail without subject")
		}
	case ChannelSMS:
		if !e164.MatchString(m.To) {
			return invalid("recipient is not an E.164 phone number")
		}
	default:
		return invalid("unknown channel %q", m.Channel)
	}
	if len(m.Subject) > maxSubjectBytes || !utf8.ValidString(m.Subject) {
		return invalid("subject longer than %d bytes or not UTF-8", maxSubjectBytes)
	}
	if m.Text == "" || len(m.Text) > maxTextBytes || !utf8.ValidString(m.Text) {
		return invalid("text empty, longer than %d bytes or not UTF-8", maxTextBytes)
	}
	if m.Code == "" || len(m.Code) > maxCodeBytes || hasControl(m.Code) || hasLineBreak(m.Code) {
		return invalid("code empty, longer than %d bytes or with control characters", maxCodeBytes)
	}
	// The outbox promises that "code" is what the person received: assert it.
	if !strings.Contains(m.Text, m.Code) {
		return invalid("text does not contain the code")
	}
	return nil
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
