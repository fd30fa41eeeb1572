package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// outboxLine is the contract's outbox object (API.md, "Codes").
type outboxLine struct {
	Channel Channel `json:"channel"`
	To      string  `json:"to"`
	Subject string  `json:"subject"`
	Text    string  `json:"text"`
	Code    string  `json:"code"`
	At      string  `json:"at"` // RFC 3339, UTC
}

// outbox appends one JSON object a line to a file. The file is opened for each line, so it may
// be removed or rotated while the server runs, and no handle needs closing.
type outbox struct {
	path string
	now  func() time.Time
	// mu keeps this process's lines whole and in order; O_APPEND with one write per line keeps
	// them whole against other processes appending to the same file on a local file system.
	mu sync.Mutex
}

const outboxMode = 0o600 // the lines hold live codes

func newOutbox(path string, now func() time.Time) (*outbox, error) {
	o := &outbox{path: path, now: now}
	// Fail at start-up, not at the first code, when the file cannot be opened.
	f, err := o.open()
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("delivery: outbox: %w", err)
	}
	return o, nil
}

func (o *outbox) open() (*os.File, error) {
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, outboxMode)
	if err != nil {
		return nil, fmt.Errorf("delivery: outbox: %w", err)
	}
	return f, nil
}

func (o *outbox) write(m Message) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // links keep their "&" readable
	err := enc.Encode(outboxLine{
		Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text, Code: m.Code,
		At: o.now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		return fmt.Errorf("delivery: outbox: %w", err)
	}
	// Encode ends the object with "\n" and escapes every newline inside strings.
	if line.Len() == 0 || line.Bytes()[line.Len()-1] != '\n' || bytes.Count(line.Bytes(), []byte{'\n'}) != 1 {
		return fmt.Errorf("delivery: outbox: encoded line is not one line")
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := o.open()
	if err != nil {
		return err
	}
	n, err := f.Write(line.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != line.Len() {
		err = fmt.Errorf("short write (%d of %d bytes)", n, line.Len())
	}
	if err != nil {
		return fmt.Errorf("delivery: outbox: %w", err)
	}
	return nil
}
