package delivery

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// received is one message as the SMTP server got it.
type received struct {
	from     string
	rcpts    []string
	data     []byte
	authUser string // "" when the session did not authenticate
	tls      bool   // the DATA arrived over TLS
}

// mailServer is a real go-smtp server on 127.0.0.1 that records what it accepts.
type mailServer struct {
	addr string

	// Configuration, fixed before start.
	user, password string // non-empty: AUTH PLAIN offered and required before MAIL
	rejectRcpt     bool   // every RCPT gets 550

	mu       sync.Mutex
	messages []received
}

func (s *mailServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

type serverOptions struct {
	user, password string
	rejectRcpt     bool
	starttls       *tls.Config // offered as STARTTLS
	implicitTLS    *tls.Config // the listener speaks TLS from the first byte (smtps)
}

func startMailServer(t *testing.T, opts serverOptions) *mailServer {
	t.Helper()
	ms := &mailServer{user: opts.user, password: opts.password, rejectRcpt: opts.rejectRcpt}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		s := &session{server: ms, conn: c}
		if ms.user != "" {
			return &authSession{s}, nil
		}
		return s, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.AllowInsecureAuth = true // 127.0.0.1 only
	srv.TLSConfig = opts.starttls
	srv.ErrorLog = log.New(io.Discard, "", 0)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.implicitTLS != nil {
		l = tls.NewListener(l, opts.implicitTLS)
	}
	ms.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close only closes listeners Serve has registered; if Serve has not started yet it
		// would accept forever, so close ours as well.
		_ = l.Close()
		<-done
	})
	return ms
}

type session struct {
	server   *mailServer
	conn     *gosmtp.Conn
	authUser string
	from     string
	rcpts    []string
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.server.user != "" && s.authUser == "" {
		return gosmtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.server.rejectRcpt {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.messages = append(s.server.messages, received{
		from: s.from, rcpts: append([]string(nil), s.rcpts...), data: data, authUser: s.authUser, tls: isTLS,
	})
	return nil
}

func (s *session) Reset()        { s.from, s.rcpts = "", nil }
func (s *session) Logout() error { return nil }

// authSession offers AUTH PLAIN with the server's one user.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.server.user || password != s.server.password {
			return gosmtp.ErrAuthFailed
		}
		s.authUser = username
		return nil
	}), nil
}

// selfSignedTLS returns a server configuration for 127.0.0.1 and a client configuration that
// trusts it.
func selfSignedTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "coffer test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

var fixedNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func emailMessage(code string) Message {
	return Message{
		Channel: ChannelEmail,
		To:      "Jürgen <juergen@example.com>",
		Subject: "Dein Bestätigungscode",
		Text:    "Hallo Jürgen,\n\nDein Code lautet " + code + ".\nEr läuft in 10 Minuten ab.\n",
		Code:    code,
	}
}

func newSender(t *testing.T, cfg Config) Sender {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func sendCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readMail parses what the server received as an RFC 5322 message and decodes it.
func readMail(t *testing.T, data []byte) (header mail.Header, subject, body string) {
	t.Helper()
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) > 0 && !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Fatalf("line %d does not end in CRLF: %q", i, line)
		}
		if len(line) > 78+2 {
			t.Fatalf("line %d longer than 78 characters: %q", i, line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message is not RFC 5322: %v\n%s", err, data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	raw, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decode quoted-printable body: %v", err)
	}
	return msg.Header, subject, string(raw)
}

func TestSend_email_deliversRFC5322MessageThroughSMTP(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr, From: "Coffer Bank <no-reply@bank.example.org>"})

	m := emailMessage("482913")
	if err := s.Send(sendCtx(t), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if got[0].from != "no-reply@bank.example.org" {
		t.Errorf("MAIL FROM = %q, want no-reply@bank.example.org", got[0].from)
	}
	if len(got[0].rcpts) != 1 || got[0].rcpts[0] != "juergen@example.com" {
		t.Errorf("RCPT TO = %q, want [juergen@example.com]", got[0].rcpts)
	}
	header, subject, body := readMail(t, got[0].data)
	if subject != m.Subject {
		t.Errorf("subject = %q, want %q", subject, m.Subject)
	}
	if strings.Contains(header.Get("Subject"), "ü") || !strings.HasPrefix(header.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not Q-encoded", header.Get("Subject"))
	}
	if body != strings.ReplaceAll(m.Text, "\n", "\r\n") {
		t.Errorf("body = %q, want the text with CRLF line ends", body)
	}
	if !strings.Contains(body, "482913") {
		t.Errorf("body does not contain the code: %q", body)
	}
	to, err := header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "juergen@example.com" || to[0].Name != "Jürgen" {
		t.Errorf("To = %v (%v), want Jürgen <juergen@example.com>", to, err)
	}
	from, err := header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "no-reply@bank.example.org" || from[0].Name != "Coffer Bank" {
		t.Errorf("From = %v (%v)", from, err)
	}
	date, err := header.Date()
	if err != nil || !date.Equal(fixedNow) {
		t.Errorf("Date = %v (%v), want %v", date, err, fixedNow)
	}
	if id := header.Get("Message-ID"); !regexp.MustCompile(`^<[A-Z2-7]{20,}@bank\.example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	for name, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got[0].tls || got[0].authUser != "" {
		t.Errorf("tls = %v, auth user = %q; the server offered neither", got[0].tls, got[0].authUser)
	}
}

func TestSend_email_defaultFromAndUniqueMessageIDs(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr})

	for _, code := range []string{"111111", "222222"} {
		if err := s.Send(sendCtx(t), emailMessage(code)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}

	got := ms.received()
	if len(got) != 2 {
		t.Fatalf("server received %d messages, want 2", len(got))
	}
	h0, _, _ := readMail(t, got[0].data)
	h1, _, _ := readMail(t, got[1].data)
	if got[0].from != "no-reply@localhost" || h0.Get("From") != `"coffer" <no-reply@localhost>` {
		t.Errorf("MAIL FROM %q, From %q; want the default coffer <no-reply@localhost>", got[0].from, h0.Get("From"))
	}
	if h0.Get("Message-ID") == h1.Get("Message-ID") {
		t.Errorf("two messages share Message-ID %q", h0.Get("Message-ID"))
	}
}

func TestSend_email_authPlainWithCredentials(t *testing.T) {
	ms := startMailServer(t, serverOptions{user: "alice@bank.example", password: "p@ss:word"})
	s := newSender(t, Config{SMTPURL: "smtp://alice%40bank.example:p%40ss%3Aword@" + ms.addr})

	if err := s.Send(sendCtx(t), emailMessage("735102")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ms.received()
	if len(got) != 1 || got[0].authUser != "alice@bank.example" {
		t.Fatalf("received %+v, want one message from authenticated alice@bank.example", got)
	}
}

func TestSend_email_authFailures_returnErrorAndDeliverNothing(t *testing.T) {
	tests := []struct {
		name    string
		give    serverOptions
		giveURL func(addr string) string
		wantErr string
	}{
		{
			name:    "wrong password",
			give:    serverOptions{user: "alice", password: "right"},
			giveURL: func(addr string) string { return "smtp://alice:wrong@" + addr },
			wantErr: "535",
		},
		{
			name:    "server requires auth, no credentials configured",
			give:    serverOptions{user: "alice", password: "right"},
			giveURL: func(addr string) string { return "smtp://" + addr },
			wantErr: "502",
		},
		{
			name:    "credentials configured, server offers no AUTH",
			give:    serverOptions{},
			giveURL: func(addr string) string { return "smtp://alice:right@" + addr },
			wantErr: "offers no AUTH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMailServer(t, tt.give)
			s := newSender(t, Config{SMTPURL: tt.giveURL(ms.addr)})

			err := s.Send(sendCtx(t), emailMessage("735102"))

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q quotes the password", err)
			}
			if got := ms.received(); len(got) != 0 {
				t.Errorf("server received %d messages, want none", len(got))
			}
		})
	}
}

func TestSend_email_rcptRejected_returnsError(t *testing.T) {
	ms := startMailServer(t, serverOptions{rejectRcpt: true})
	s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr})

	err := s.Send(sendCtx(t), emailMessage("735102"))

	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("Send error = %v, want the server's 550", err)
	}
	if got := ms.received(); len(got) != 0 {
		t.Errorf("server received %d messages, want none", len(got))
	}
}

func TestSend_email_starttlsWhenOffered_thenAuthPlain(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	ms := startMailServer(t, serverOptions{user: "alice", password: "secret", starttls: serverTLS})
	s := newSender(t, Config{SMTPURL: "smtp://alice:secret@" + ms.addr, TLSConfig: clientTLS})

	if err := s.Send(sendCtx(t), emailMessage("560133")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ms.received()
	if len(got) != 1 || !got[0].tls || got[0].authUser != "alice" {
		t.Fatalf("received %+v, want one message over TLS from alice", got)
	}
	if _, _, body := readMail(t, got[0].data); !strings.Contains(body, "560133") {
		t.Errorf("body does not contain the code: %q", body)
	}
}

func TestSend_email_starttlsUntrustedCertificate_failsWithoutFallback(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	ms := startMailServer(t, serverOptions{starttls: serverTLS})
	s := newSender(t, Config{SMTPURL: "smtp://" + ms.addr}) // system roots: the test CA is unknown

	err := s.Send(sendCtx(t), emailMessage("560133"))

	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Fatalf("Send error = %v, want an unknown-authority TLS error", err)
	}
	if got := ms.received(); len(got) != 0 {
		t.Errorf("server received %d messages in plain text after a failed STARTTLS", len(got))
	}
}

func TestSend_email_smtpsImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	ms := startMailServer(t, serverOptions{user: "alice", password: "secret", implicitTLS: serverTLS})
	s := newSender(t, Config{SMTPURL: "smtps://alice:secret@" + ms.addr, TLSConfig: clientTLS})

	if err := s.Send(sendCtx(t), emailMessage("908172")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := ms.received()
	if len(got) != 1 || !got[0].tls || got[0].authUser != "alice" {
		t.Fatalf("received %+v, want one message over TLS from alice", got)
	}
}

func TestSend_email_plainAuthOverUnencryptedRemoteConnection_isRefused(t *testing.T) {
	// net/smtp lets PLAIN go unencrypted only to the literal names localhost, 127.0.0.1 and
	// ::1. The IPv4-mapped ::ffff:127.0.0.1 reaches the same server but is none of them, so it
	// stands in for a remote host.
	ms := startMailServer(t, serverOptions{user: "alice", password: "secret"})
	_, port, _ := net.SplitHostPort(ms.addr)
	s := newSender(t, Config{SMTPURL: "smtp://alice:secret@[::ffff:127.0.0.1]:" + port})

	err := s.Send(sendCtx(t), emailMessage("908172"))

	if err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("Send error = %v, want net/smtp's refusal of unencrypted PLAIN", err)
	}
	if got := ms.received(); len(got) != 0 {
		t.Errorf("server received %d messages, want none", len(got))
	}
}

func TestSend_email_serverSilent_boundedByContext(t *testing.T) {
	// A listener that accepts and never greets: the client would wait forever without a deadline.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	s := newSender(t, Config{SMTPURL: "smtp://" + l.Addr().String()})

	tests := []struct {
		name    string
		give    func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{
			name: "deadline",
			give: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "cancel without deadline",
			give: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.give()
			defer cancel()
			start := time.Now()

			err := s.Send(ctx, emailMessage("123456"))

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Send error = %v, want %v", err, tt.wantErr)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Send took %v after the context ended", elapsed)
			}
		})
	}
}
