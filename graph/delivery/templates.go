package delivery

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Kind names a message the bank sends.
type Kind string

const (
	KindEmailVerification Kind = "email_verification"
	KindLoginCode         Kind = "login_code"
	KindRegistrationOTP   Kind = "registration_otp"
	KindPasswordReset     Kind = "password_reset"
	KindPhoneVerification Kind = "phone_verification"
	KindCashoutTAN        Kind = "cashout_tan"
	// KindCustomerUpdateTAN confirms a customer's change of their own contact data or cash-out
	// address (updateCustomer); it goes to the e-mail address on file before the change.
	KindCustomerUpdateTAN Kind = "customer_update_tan"
)

// TemplateData fills a message.
type TemplateData struct {
	Code     string        // required
	TTL      time.Duration // how long the code lives; 0 leaves the expiry sentence out
	Username string        // optional greeting
	Amount   string        // formatted with its currency ("12.34 EUR"); required for a TAN
}

// texts are the messages in English. They are plain text/template sources on purpose: a
// translation is a copy of this table with the same placeholders ({{.Code}}, {{duration .TTL}},
// {{.Username}}, {{.Amount}}). Subjects take no data, so nothing from a user reaches a header.
// Every text also serves as an SMS, so each stays a few short lines.
var texts = map[Kind]struct{ subject, text string }{
	KindEmailVerification: {
		subject: "Your e-mail verification code",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your e-mail verification code is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
If you did not ask for it, ignore this message.
`,
	},
	KindLoginCode: {
		subject: "Your login code",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your login code is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
Never share it. If you did not try to log in, change your password.
`,
	},
	KindRegistrationOTP: {
		subject: "Your registration code",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your registration code is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
If you did not register, ignore this message.
`,
	},
	KindPasswordReset: {
		subject: "Your password reset token",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your password reset token is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
If you did not ask to reset your password, ignore this message; your password stays as it is.
`,
	},
	KindPhoneVerification: {
		subject: "Your phone verification code",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your phone verification code is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
If you did not ask for it, ignore this message.
`,
	},
	KindCashoutTAN: {
		subject: "Your TAN to confirm a cash-out",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your TAN to confirm the cash-out of {{.Amount}} is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
Never share it. If you did not start this cash-out, do not use it and contact the bank.
`,
	},
	KindCustomerUpdateTAN: {
		subject: "Your TAN to confirm a change of your details",
		text: `{{if .Username}}Hello {{.Username}},

{{end}}Your TAN to confirm the change of your contact details or cash-out address is {{.Code}}.{{if .TTL}}
It expires in {{duration .TTL}}.{{end}}
Never share it. If you did not ask for this change, do not use it and contact the bank.
`,
	},
}

// templates are texts parsed once; a broken text fails at start-up, not at the first code.
var templates = func() map[Kind]*template.Template {
	funcs := template.FuncMap{"duration": humanDuration}
	out := make(map[Kind]*template.Template, len(texts))
	for kind, t := range texts {
		out[kind] = template.Must(template.New(string(kind)).Funcs(funcs).Parse(t.text))
	}
	return out
}()

// ErrTemplateData is matched (errors.Is) by Render's error for missing or malformed data.
var ErrTemplateData = errors.New("delivery: invalid template data")

// Render returns the subject and text of a message of the given kind. The text contains
// data.Code, so a Message built from it passes Send's check that the text carries its code.
func Render(kind Kind, data TemplateData) (subject, text string, err error) {
	t, ok := templates[kind]
	if !ok {
		return "", "", fmt.Errorf("%w: unknown kind %q", ErrTemplateData, kind)
	}
	switch {
	case data.Code == "" || hasControl(data.Code) || len(data.Code) > maxCodeBytes:
		return "", "", fmt.Errorf("%w: code empty, too long or with control characters", ErrTemplateData)
	case data.TTL < 0:
		return "", "", fmt.Errorf("%w: negative TTL", ErrTemplateData)
	case hasControl(data.Username) || hasControl(data.Amount):
		return "", "", fmt.Errorf("%w: control character in username or amount", ErrTemplateData)
	case kind == KindCashoutTAN && strings.TrimSpace(data.Amount) == "":
		// A TAN confirms a particular amount; the person must see which.
		return "", "", fmt.Errorf("%w: a TAN needs the amount", ErrTemplateData)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("delivery: render %s: %w", kind, err)
	}
	return texts[kind].subject, b.String(), nil
}

// humanDuration writes d the way a person says it: "10 minutes", "1 hour 30 minutes", "1 day".
// It rounds to the second; under a second it says "1 second" rather than "0 seconds".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		d = time.Second
	}
	units := []struct {
		size time.Duration
		name string
	}{
		{24 * time.Hour, "day"},
		{time.Hour, "hour"},
		{time.Minute, "minute"},
		{time.Second, "second"},
	}
	var parts []string
	for _, u := range units {
		n := d / u.size
		if n == 0 {
			continue
		}
		d -= n * u.size
		part := strconv.FormatInt(int64(n), 10) + " " + u.name
		if n != 1 {
			part += "s"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " ")
}
