package delivery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var allKinds = []Kind{
	KindEmailVerification, KindLoginCode, KindRegistrationOTP,
	KindPasswordReset, KindPhoneVerification, KindCashoutTAN, KindCustomerUpdateTAN,
}

func TestRender_everyKind_containsCodeAndExpiry(t *testing.T) {
	if len(allKinds) != len(texts) {
		t.Fatalf("test covers %d kinds, texts has %d", len(allKinds), len(texts))
	}
	for _, kind := range allKinds {
		t.Run(string(kind), func(t *testing.T) {
			data := TemplateData{Code: "482913", TTL: 10 * time.Minute, Username: "jdoe", Amount: "12.34 EUR"}

			subject, text, err := Render(kind, data)

			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for _, want := range []string{"Hello jdoe,\n\n", "482913", "It expires in 10 minutes."} {
				if !strings.Contains(text, want) {
					t.Errorf("text %q lacks %q", text, want)
				}
			}
			if subject == "" || strings.Contains(subject, "482913") {
				t.Errorf("subject %q: want one, without the code", subject)
			}
			if strings.Contains(text, "{{") || strings.Contains(text, "<no value>") {
				t.Errorf("text %q has template residue", text)
			}
			// What Render produces passes Send's checks on both channels.
			for _, m := range []Message{
				{Channel: ChannelEmail, To: "jdoe@example.com", Subject: subject, Text: text, Code: data.Code},
				{Channel: ChannelSMS, To: "+4915112345678", Text: text, Code: data.Code},
			} {
				if err := validate(m); err != nil {
					t.Errorf("validate(%s): %v", m.Channel, err)
				}
			}
		})
	}
}

func TestRender_withoutUsernameAndTTL_leavesTheirSentencesOut(t *testing.T) {
	_, text, err := Render(KindLoginCode, TemplateData{Code: "482913"})
	if err != nil {
		t.Fatal(err)
	}

	want := "Your login code is 482913.\nNever share it. If you did not try to log in, change your password.\n"
	if text != want {
		t.Errorf("text = %q, want %q", text, want)
	}
}

func TestRender_cashoutTAN_namesTheAmount(t *testing.T) {
	_, text, err := Render(KindCashoutTAN, TemplateData{Code: "77553311", TTL: 5 * time.Minute, Amount: "EUR 1,000.00"})
	if err != nil {
		t.Fatal(err)
	}

	if !strings.HasPrefix(text, "Your TAN to confirm the cash-out of EUR 1,000.00 is 77553311.\nIt expires in 5 minutes.\n") {
		t.Errorf("text = %q", text)
	}
}

func TestRender_invalidData_isRejected(t *testing.T) {
	tests := []struct {
		name     string
		giveKind Kind
		give     TemplateData
	}{
		{name: "unknown kind", giveKind: "welcome", give: TemplateData{Code: "1"}},
		{name: "no code", giveKind: KindLoginCode, give: TemplateData{}},
		{name: "code with newline", giveKind: KindLoginCode, give: TemplateData{Code: "12\n34"}},
		{name: "code too long", giveKind: KindLoginCode, give: TemplateData{Code: strings.Repeat("1", 513)}},
		{name: "negative TTL", giveKind: KindLoginCode, give: TemplateData{Code: "123456", TTL: -time.Second}},
		{name: "username with newline", giveKind: KindLoginCode, give: TemplateData{Code: "123456", Username: "a\nb"}},
		{name: "TAN without amount", giveKind: KindCashoutTAN, give: TemplateData{Code: "123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, text, err := Render(tt.giveKind, tt.give)

			if !errors.Is(err, ErrTemplateData) || subject != "" || text != "" {
				t.Errorf("Render = %q, %q, %v; want ErrTemplateData and nothing else", subject, text, err)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		give time.Duration
		want string
	}{
		{give: 10 * time.Minute, want: "10 minutes"},
		{give: time.Minute, want: "1 minute"},
		{give: 90 * time.Second, want: "1 minute 30 seconds"},
		{give: time.Hour, want: "1 hour"},
		{give: 2*time.Hour + 5*time.Minute, want: "2 hours 5 minutes"},
		{give: 24 * time.Hour, want: "1 day"},
		{give: 49 * time.Hour, want: "2 days 1 hour"},
		{give: 45 * time.Second, want: "45 seconds"},
		{give: 1500 * time.Millisecond, want: "2 seconds"},
		{give: time.Millisecond, want: "1 second"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := humanDuration(tt.give); got != tt.want {
				t.Errorf("humanDuration(%v) = %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}
