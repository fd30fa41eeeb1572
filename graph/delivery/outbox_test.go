package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// outboxEntry mirrors the contract's outbox object; decoding rejects any other field.
type outboxEntry struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Code    string `json:"code"`
	At      string `json:"at"`
}

func readOutbox(t *testing.T, path string) []outboxEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("outbox does not end with a newline")
	}
	var entries []outboxEntry
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 && len(data) == 0 {
			break
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var e outboxEntry
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("outbox line %d is not one JSON object: %v: %.200s", i+1, err, line)
		}
		if dec.More() {
			t.Fatalf("outbox line %d holds more than one JSON value", i+1)
		}
		entries = append(entries, e)
	}
	return entries
}

func TestSend_outboxOnly_writesOneLinePerMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	s := newSender(t, Config{OutboxFile: path})
	email := emailMessage("111222")
	email.Text += "Link: https://bank.example/verify?code=111222&user=j\n"

	for _, m := range []Message{email, smsMessage("333444")} {
		if err := s.Send(sendCtx(t), m); err != nil {
			t.Fatalf("Send %s: %v", m.Channel, err)
		}
	}

	got := readOutbox(t, path)
	want := []outboxEntry{
		{Channel: "email", To: email.To, Subject: email.Subject, Text: email.Text, Code: "111222", At: "2025-03-04T05:06:07Z"},
		{Channel: "sms", To: "+4915112345678", Subject: "", Text: smsMessage("333444").Text, Code: "333444", At: "2025-03-04T05:06:07Z"},
	}
	if len(got) != len(want) {
		t.Fatalf("outbox has %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("outbox mode = %o, want 600", mode)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte("code=111222&user=j")) {
		t.Errorf("outbox escapes the link's & (want it readable)")
	}
}

func TestSend_outbox_50ConcurrentSends_neverInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	s := newSender(t, Config{OutboxFile: path})
	// Long texts make a torn write visible: each line is several kilobytes.
	padding := strings.Repeat("Lorem ipsum dolor sit amet. ", 300)

	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code := fmt.Sprintf("%06d", i)
			m := smsMessage(code)
			if i%2 == 0 {
				m = emailMessage(code)
			}
			m.Text += padding
			errs[i] = s.Send(sendCtx(t), m)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}

	got := readOutbox(t, path)
	if len(got) != n {
		t.Fatalf("outbox has %d lines, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if !strings.Contains(e.Text, e.Code) || !strings.HasSuffix(e.Text, padding) {
			t.Errorf("line for code %s holds another message's text", e.Code)
		}
		seen[e.Code] = true
	}
	for i := range n {
		if code := fmt.Sprintf("%06d", i); !seen[code] {
			t.Errorf("code %s missing from the outbox", code)
		}
	}
}

func TestSend_outboxAndTransports_bothGetTheMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	ms := startMailServer(t, serverOptions{})
	g := startGateway(t, http.StatusOK)
	s := newSender(t, Config{OutboxFile: path, SMTPURL: "smtp://" + ms.addr, SMSWebhookURL: g.URL})

	for _, m := range []Message{emailMessage("121212"), smsMessage("343434")} {
		if err := s.Send(sendCtx(t), m); err != nil {
			t.Fatalf("Send %s: %v", m.Channel, err)
		}
	}

	if got := len(ms.received()); got != 1 {
		t.Errorf("SMTP server received %d messages, want 1", got)
	}
	if got := len(g.got()); got != 1 {
		t.Errorf("gateway got %d requests, want 1", got)
	}
	entries := readOutbox(t, path)
	if len(entries) != 2 || entries[0].Code != "121212" || entries[1].Code != "343434" {
		t.Errorf("outbox = %+v, want the e-mail and the SMS", entries)
	}
}

func TestSend_outboxTimestampIsUTC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	berlin := time.FixedZone("CET", 3600)
	s := newSender(t, Config{OutboxFile: path, Now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, berlin) }})

	if err := s.Send(sendCtx(t), smsMessage("555666")); err != nil {
		t.Fatal(err)
	}

	if got := readOutbox(t, path); len(got) != 1 || got[0].At != "2025-01-02T02:04:05Z" {
		t.Errorf("outbox = %+v, want at 2025-01-02T02:04:05Z", got)
	}
}
