package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

const (
	smtpDialTimeout = 10 * time.Second
	// smtpMaxSendDuration bounds a send whose context has no deadline of its own.
	smtpMaxSendDuration = time.Minute
)

// smtpTransport sends e-mail through one submission server.
type smtpTransport struct {
	host        string // for TLS verification and PLAIN's host check
	addr        string // host:port
	implicitTLS bool   // smtps://
	auth        smtp.Auth
	from        *mail.Address
	msgIDDomain string
	tlsConfig   *tls.Config
	now         func() time.Time
}

var _ transport = (*smtpTransport)(nil)

func newSMTPTransport(cfg Config, now func() time.Time) (*smtpTransport, error) {
	// Errors never quote the URL: it holds the password.
	u, err := url.Parse(cfg.SMTPURL)
	if err != nil {
		return nil, errors.New("delivery: SMTP_URL is not a URL")
	}
	t := &smtpTransport{now: now}
	var defaultPort string
	switch u.Scheme {
	case "smtp":
		defaultPort = "587"
	case "smtps":
		defaultPort, t.implicitTLS = "465", true
	default:
		return nil, errors.New("delivery: SMTP_URL scheme must be smtp or smtps")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("delivery: SMTP_URL takes only user, password, host and port")
	}
	t.host = u.Hostname()
	if t.host == "" {
		return nil, errors.New("delivery: SMTP_URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.User != nil && u.User.Username() != "" {
		password, _ := u.User.Password()
		// net/smtp refuses PLAIN over a connection that is neither TLS nor to localhost: keep it.
		t.auth = smtp.PlainAuth("", u.User.Username(), password, t.host)
	}

	from := cfg.From
	if from == "" {
		from = DefaultFrom
	}
	if hasLineBreak(from) {
		return nil, errors.New("delivery: From has a line break")
	}
	t.from, err = mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("delivery: From is not an e-mail address: %w", err)
	}
	t.msgIDDomain = "localhost"
	if at := strings.LastIndexByte(t.from.Address, '@'); at >= 0 && at < len(t.from.Address)-1 {
		t.msgIDDomain = t.from.Address[at+1:]
	}

	if cfg.TLSConfig != nil {
		t.tlsConfig = cfg.TLSConfig.Clone()
	} else {
		t.tlsConfig = &tls.Config{}
	}
	if t.tlsConfig.ServerName == "" {
		t.tlsConfig.ServerName = t.host
	}
	if t.tlsConfig.MinVersion == 0 {
		t.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return t, nil
}

func (t *smtpTransport) send(ctx context.Context, m Message) (err error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil { // validate checked it; a second look costs nothing
		return fmt.Errorf("%w: recipient is not an e-mail address", ErrInvalidMessage)
	}
	body, err := t.compose(m, to)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, smtpMaxSendDuration)
	defer cancel()
	defer func() {
		if err != nil {
			ctxErr := ctx.Err()
			// The conn deadline may fire a moment before ctx's own timer marks it done.
			if deadline, ok := ctx.Deadline(); ok && ctxErr == nil && !time.Now().Before(deadline) {
				ctxErr = context.DeadlineExceeded
			}
			if ctxErr != nil {
				err = fmt.Errorf("delivery: smtp: %w: %w", ctxErr, err)
				return
			}
			err = fmt.Errorf("delivery: smtp: %w", err)
		}
	}()

	dialer := &net.Dialer{Timeout: smtpDialTimeout}
	var conn net.Conn
	if t.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: t.tlsConfig}).DialContext(ctx, "tcp", t.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", t.addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	// The deadline bounds every read and write; cancelling ctx moves it to the past, which
	// unblocks whatever the client is waiting for.
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	return t.converse(conn, to.Address, body)
}

// converse runs one SMTP session on conn: greeting, STARTTLS when offered, AUTH PLAIN when
// credentials were given, one message.
func (t *smtpTransport) converse(conn net.Conn, rcpt string, body []byte) error {
	c, err := smtp.NewClient(conn, t.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if !t.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(t.tlsConfig); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if t.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("credentials given but the server offers no AUTH")
		}
		if err := c.Auth(t.auth); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(t.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	// Close waits for the server's verdict on the message: after a 250 it is delivered.
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	// The message is accepted; a failing QUIT must not tell the caller it was not delivered.
	_ = c.Quit()
	return nil
}

// compose builds the RFC 5322 message: headers with CRLF, a quoted-printable UTF-8 body.
func (t *smtpTransport) compose(m Message, to *mail.Address) ([]byte, error) {
	headers := [][2]string{
		{"From", t.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", t.now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + rand.Text() + "@" + t.msgIDDomain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	}
	var b bytes.Buffer
	for _, h := range headers {
		// validate refused line breaks in To and Subject; assert it where the header is written.
		if hasLineBreak(h[1]) {
			return nil, fmt.Errorf("%w: line break in header %s", ErrInvalidMessage, h[0])
		}
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Text)); err != nil {
		return nil, fmt.Errorf("delivery: smtp: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("delivery: smtp: encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}
