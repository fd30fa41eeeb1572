package main

// Stand-ins for the channels that carry one-time codes, as the identity tests read them: a real
// go-smtp server (SMTP_URL), an httptest SMS webhook (SMS_WEBHOOK_URL) and the outbox file
// (OUTBOX_FILE). Every delivery happens before the mutation that sends it answers, so a test reads
// what arrived right after the response, without polling.
//
// Helpers carry the prefix "id", as the identity helpers do.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// idMessage is one message as its recipient got it.
type idMessage struct {
	Channel string // "email" or "sms"
	To      string // the envelope recipient (e-mail) or the webhook's "to" (SMS)
	Subject string // e-mail only, decoded
	Text    string // the decoded body
}

// idMailbox records what a stand-in received, in order.
type idMailbox struct {
	mu   sync.Mutex
	msgs []idMessage
}

func (b *idMailbox) add(m idMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
}

// all returns a copy of every message received so far.
func (b *idMailbox) all() []idMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]idMessage(nil), b.msgs...)
}

// to returns the messages received for one recipient.
func (b *idMailbox) to(addr string) []idMessage {
	var out []idMessage
	for _, m := range b.all() {
		if strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

// idSMTP is a plain (no TLS, no AUTH) go-smtp server on 127.0.0.1.
type idSMTP struct {
	idMailbox
	Addr string
}

// URL is the SMTP_URL that reaches the server.
func (s *idSMTP) URL() string { return "smtp://" + s.Addr }

func idStartSMTP(t testing.TB) *idSMTP {
	t.Helper()
	ms := &idSMTP{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return &idSMTPSession{box: ms}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = l.Close() // in case Serve had not registered it yet
		<-done
	})
	return ms
}

type idSMTPSession struct {
	box   *idSMTP
	rcpts []string
}

func (s *idSMTPSession) Mail(string, *gosmtp.MailOptions) error { return nil }

func (s *idSMTPSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data decodes the message (quoted-printable body, Q-encoded subject) and records it once per
// envelope recipient; a message it cannot read is refused, which fails the sending mutation.
func (s *idSMTPSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	for _, rcpt := range s.rcpts {
		s.box.add(idMessage{Channel: "email", To: rcpt, Subject: subject,
			Text: strings.ReplaceAll(string(text), "\r\n", "\n")})
	}
	return nil
}

func (s *idSMTPSession) Reset()        { s.rcpts = nil }
func (s *idSMTPSession) Logout() error { return nil }

// idSMS is an SMS gateway's webhook: it records each JSON POST {"to", "text"} and answers 200.
type idSMS struct {
	idMailbox
	URL string
}

func idStartSMS(t testing.TB) *idSMS {
	t.Helper()
	box := &idSMS{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ To, Text string }
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "JSON POST only", http.StatusBadRequest)
			return
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || in.To == "" || in.Text == "" {
			http.Error(w, "want {\"to\", \"text\"}", http.StatusBadRequest)
			return
		}
		box.add(idMessage{Channel: "sms", To: in.To, Text: in.Text})
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"queued"}`)
	}))
	t.Cleanup(srv.Close)
	box.URL = srv.URL + "/sms"
	return box
}

// idOutboxLine is one line of OUTBOX_FILE (API.md, "Codes").
type idOutboxLine struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Code    string `json:"code"`
	At      string `json:"at"`
}

// idReadOutbox returns every line of the outbox file; a file not yet written is empty.
func idReadOutbox(t testing.TB, path string) []idOutboxLine {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	var out []idOutboxLine
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var l idOutboxLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		if l.Channel == "" || l.To == "" || l.Text == "" || l.Code == "" || l.At == "" {
			t.Errorf("outbox line lacks a field: %q", sc.Text())
		}
		if _, err := time.Parse(time.RFC3339, l.At); err != nil {
			t.Errorf("outbox line's at %q is not RFC 3339", l.At)
		}
		if !strings.Contains(l.Text, l.Code) {
			t.Errorf("outbox line's text does not contain its code: %q", sc.Text())
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	return out
}

// idSixDigits finds a one-time code in a message's text.
var idSixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// idCodeIn returns the only 6-digit code in text.
func idCodeIn(t testing.TB, text string) string {
	t.Helper()
	codes := idSixDigits.FindAllString(text, -1)
	if len(codes) != 1 {
		t.Fatalf("want exactly one 6-digit code in %q, found %v", text, codes)
	}
	return codes[0]
}
