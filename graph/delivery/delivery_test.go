package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSend_invalidMessage_isRejectedAndSendsNothing(t *testing.T) {
	tests := []struct {
		name string
		give func(m *Message)
	}{
		{name: "LF in To injects a header", give: func(m *Message) { m.To = "a@example.com\nBcc: everyone@example.com" }},
		{name: "CRLF in To", give: func(m *Message) { m.To = "a@example.com\r\nBcc: everyone@example.com" }},
		{name: "CR in Subject", give: func(m *Message) { m.Subject = "Code\rBcc: everyone@example.com" }},
		{name: "CRLF in Subject", give: func(m *Message) { m.Subject = "Code\r\n\r\nfake body" }},
		{name: "NUL in Subject", give: func(m *Message) { m.Subject = "Code\x00" }},
		{name: "To is not an address", give: func(m *Message) { m.To = "not an address" }},
		{name: "two recipients", give: func(m *Message) { m.To = "a@example.com, b@example.com" }},
		{name: "empty To", give: func(m *Message) { m.To = "" }},
		{name: "To too long", give: func(m *Message) { m.To = strings.Repeat("a", 250) + "@example.com" }},
		{name: "no subject", give: func(m *Message) { m.Subject = " " }},
		{name: "subject too long", give: func(m *Message) { m.Subject = strings.Repeat("s", 256) }},
		{name: "subject not UTF-8", give: func(m *Message) { m.Subject = "\xff" }},
		{name: "empty text", give: func(m *Message) { m.Text = "" }},
		{name: "text too long", give: func(m *Message) { m.Text = m.Code + strings.Repeat("x", 16<<10) }},
		{name: "empty code", give: func(m *Message) { m.Code = "" }},
		{name: "text without the code", give: func(m *Message) { m.Code = "999999" }},
		{name: "unknown channel", give: func(m *Message) { m.Channel = "pigeon" }},
		{name: "SMS to an e-mail address", give: func(m *Message) { m.Channel = ChannelSMS }},
		{name: "SMS to a national number", give: func(m *Message) { m.Channel, m.To = ChannelSMS, "015112345678" }},
		{name: "SMS with LF in To", give: func(m *Message) { m.Channel, m.To = ChannelSMS, "+4915112345678\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMailServer(t, serverOptions{})
			g := startGateway(t, 200)
			outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
			s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr, SMSWebhookURL: g.URL, OutboxFile: outbox})
			m := emailMessage("246810")
			tt.give(&m)

			err := s.Send(sendCtx(t), m)

			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Send error = %v, want ErrInvalidMessage", err)
			}
			if n := len(ms.received()); n != 0 {
				t.Errorf("SMTP server received %d messages", n)
			}
			if n := len(g.got()); n != 0 {
				t.Errorf("gateway got %d requests", n)
			}
			if data, _ := os.ReadFile(outbox); len(data) != 0 {
				t.Errorf("outbox got %q", data)
			}
		})
	}
}

func TestSend_channelWithoutTransport_returnsErrNoTransport(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	tests := []struct {
		name    string
		give    Config
		giveMsg Message
		wantErr string
	}{
		{name: "nothing configured, e-mail", give: Config{}, giveMsg: emailMessage("135790"), wantErr: "delivery: no e-mail transport configured"},
		{name: "nothing configured, SMS", give: Config{}, giveMsg: smsMessage("135790"), wantErr: "delivery: no SMS transport configured"},
		{name: "only SMTP, SMS", give: Config{SMTPURL: "smtp://" + ms.addr}, giveMsg: smsMessage("135790"), wantErr: "delivery: no SMS transport configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, tt.give)

			err := s.Send(sendCtx(t), tt.giveMsg)

			if !errors.Is(err, ErrNoTransport) || err.Error() != tt.wantErr {
				t.Fatalf("Send error = %v, want %q matching ErrNoTransport", err, tt.wantErr)
			}
		})
	}
	if n := len(ms.received()); n != 0 {
		t.Errorf("SMTP server received %d messages", n)
	}
}

func TestSend_cancelledContext_sendsNothing(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
	s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr, OutboxFile: outbox})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := s.Send(ctx, emailMessage("135790"))

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want context.Canceled", err)
	}
	if n := len(ms.received()); n != 0 {
		t.Errorf("SMTP server received %d messages", n)
	}
	if data, _ := os.ReadFile(outbox); len(data) != 0 {
		t.Errorf("outbox got %q", data)
	}
}

func TestNew_invalidConfig_failsWithoutQuotingSecrets(t *testing.T) {
	tests := []struct {
		name string
		give Config
	}{
		{name: "SMTP scheme", give: Config{SMTPURL: "http://user:hunter2@mail.example:25"}},
		{name: "SMTP without host", give: Config{SMTPURL: "smtp://user:hunter2@:25"}},
		{name: "SMTP with path", give: Config{SMTPURL: "smtp://user:hunter2@mail.example/inbox"}},
		{name: "SMTP with query", give: Config{SMTPURL: "smtp://user:hunter2@mail.example?tls=no"}},
		{name: "SMTP unparsable", give: Config{SMTPURL: "smtp://user:hunter2@mail.example:port%zz"}},
		{name: "From not an address", give: Config{SMTPURL: "smtp://mail.example", From: "coffer"}},
		{name: "From with line break", give: Config{SMTPURL: "smtp://mail.example", From: "a@example.com\r\nBcc: x@example.com"}},
		{name: "SMS scheme", give: Config{SMSWebhookURL: "ftp://gw.example/hunter2"}},
		{name: "SMS without host", give: Config{SMSWebhookURL: "https:///sms?token=hunter2"}},
		{name: "outbox in a missing directory", give: Config{OutboxFile: "/nonexistent-coffer-dir/outbox.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.give)

			if err == nil || s != nil {
				t.Fatalf("New = %v, %v; want an error", s, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q quotes a secret", err)
			}
		})
	}
}

func TestNew_smtpURLDefaults(t *testing.T) {
	tests := []struct {
		give         string
		wantAddr     string
		wantImplicit bool
		wantAuth     bool
	}{
		{give: "smtp://mail.example", wantAddr: "mail.example:587"},
		{give: "smtp://mail.example/", wantAddr: "mail.example:587"},
		{give: "smtp://u:p@mail.example:2525", wantAddr: "mail.example:2525", wantAuth: true},
		{give: "smtps://u:p@mail.example", wantAddr: "mail.example:465", wantImplicit: true, wantAuth: true},
		{give: "smtp://[::1]:25", wantAddr: "[::1]:25"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			s, err := New(Config{SMTPURL: tt.give})
			if err != nil {
				t.Fatal(err)
			}

			tr := s.(*sender).email.(*smtpTransport)

			if tr.addr != tt.wantAddr || tr.implicitTLS != tt.wantImplicit || (tr.auth != nil) != tt.wantAuth {
				t.Errorf("addr %q implicit TLS %v auth %v; want %q %v %v", tr.addr, tr.implicitTLS, tr.auth != nil, tt.wantAddr, tt.wantImplicit, tt.wantAuth)
			}
		})
	}
}
