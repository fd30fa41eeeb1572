package identity_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/cashout"
	"coffer/ent/transaction"
	"coffer/ent/user"
	"coffer/graph/apperr"
	cashouts "coffer/graph/cashout"
	"coffer/graph/codes"
	"coffer/graph/delivery"
	"coffer/graph/identity"
	"coffer/graph/ledger"
	"coffer/graph/lookup"
	"coffer/graph/money"
	"coffer/graph/pgtest"
	"coffer/graph/store"
	"coffer/graph/testkit"
)

// The login, session and customer rules on both stores, without GraphQL.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clock is a settable clock shared by the identity, code and ledger services.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// env is an identity service over a fresh database, its clock and the outbox its codes go to.
type env struct {
	*identity.Service
	clock  *clock
	outbox string
	db     *store.DB
}

func open(t *testing.T, st string) *env {
	t.Helper()
	db := pgtest.OpenStore(t, st)
	outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
	sender, err := delivery.New(delivery.Config{OutboxFile: outbox})
	if err != nil {
		t.Fatal(err)
	}
	key, err := lookup.NewKey(make([]byte, lookup.MinKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now().UTC()}
	l := testkit.Ledger(db)
	l.Now = clk.Now
	c := &codes.Service{Client: db.Client, Sender: sender, Key: key, TTL: 10 * time.Minute, Now: clk.Now}
	s := identity.NewService(db.Client, l, identity.NewHasher(0), c, key)
	s.Now = clk.Now
	return &env{Service: s, clock: clk, outbox: outbox, db: db}
}

// customer creates a customer whose password is username + "-password".
func (e *env) customer(t *testing.T, username string) {
	t.Helper()
	_, err := e.CreateCustomer(context.Background(), identity.NewCustomer{
		Username: username, Password: username + "-password", Name: username,
		Email: username + "@example.com", CashoutAddress: "payto://iban/DE89370400440532013000",
	})
	if err != nil {
		t.Fatal(err)
	}
}

// login logs username in with the right password and returns the session's viewer.
func (e *env) login(t *testing.T, username string) (token string, v *identity.Viewer) {
	t.Helper()
	res, err := e.Login(context.Background(), username, username+"-password")
	if err != nil || res.Session == nil {
		t.Fatalf("login %s: %+v, %v", username, res, err)
	}
	return res.Session.Token, e.viewer(t, res.Session.Token)
}

func (e *env) viewer(t *testing.T, token string) *identity.Viewer {
	t.Helper()
	v, err := e.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// lastCode is the code of the last message in the outbox.
func (e *env) lastCode(t *testing.T) string {
	t.Helper()
	return testkit.LastCode(t, e.outbox)
}

func TestLogin_maxWrongPasswords_lockEvenTheRightOne_untilTheLockoutEnds(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			e.customer(t, "ann")
			for i := range e.MaxFailedLogins {
				_, err := e.Login(ctx, "ann", "wrong-password")
				if i < e.MaxFailedLogins-1 {
					testkit.WantCode(t, err, apperr.Unauthenticated)
				}
			}
			_, err := e.Login(ctx, "ann", "ann-password")
			testkit.WantCode(t, err, apperr.AccountLocked)
			_, err = e.Login(ctx, "nobody", "wrong-password")
			testkit.WantCode(t, err, apperr.Unauthenticated) // an unknown name is refused like a wrong password
			e.clock.Add(e.LockoutDuration + time.Second)
			e.login(t, "ann")
		})
	}
}

func TestLogin_emailSecondFactor_sessionOnlyWithTheCode(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			e.customer(t, "ann")
			_, v := e.login(t, "ann")
			_, err := e.SetTwoFactor(ctx, v, user.TwoFactorEMAIL, "wrong-password")
			testkit.WantCode(t, err, apperr.BadUserInput) // on currentPassword
			if _, err := e.SetTwoFactor(ctx, v, user.TwoFactorEMAIL, "ann-password"); err != nil {
				t.Fatal(err)
			}
			res, err := e.Login(ctx, "ann", "ann-password")
			if err != nil || res.Session != nil || res.ChallengeID == "" {
				t.Fatalf("first step: %+v, %v; want a challenge and no session", res, err)
			}
			code := e.lastCode(t)
			wrong := "000000"
			if code == wrong {
				wrong = "000001"
			}
			_, err = e.ConfirmLogin(ctx, res.ChallengeID, wrong)
			testkit.WantCode(t, err, apperr.InvalidCode)
			sess, err := e.ConfirmLogin(ctx, res.ChallengeID, code)
			if err != nil || e.viewer(t, sess.Token) == nil {
				t.Fatalf("second step: %+v, %v", sess, err)
			}
			_, err = e.ConfirmLogin(ctx, res.ChallengeID, code)
			testkit.WantCode(t, err, apperr.InvalidCode) // a code works once
		})
	}
}

func TestSessions_logoutEndsOne_idleEndsAll_passwordChangeKeepsOnlyTheCurrent(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			e.customer(t, "ann")
			first, v1 := e.login(t, "ann")
			second, _ := e.login(t, "ann")
			if err := e.Logout(ctx, v1); err != nil {
				t.Fatal(err)
			}
			if e.viewer(t, first) != nil || e.viewer(t, second) == nil {
				t.Fatal("logout must end the current session only")
			}
			third, v3 := e.login(t, "ann")
			if err := e.ChangePassword(ctx, v3, "", "new-password-1", "new-password-1", "ann-password"); err != nil {
				t.Fatal(err)
			}
			if e.viewer(t, second) != nil || e.viewer(t, third) == nil {
				t.Fatal("a password change must end the other sessions and keep the current one")
			}
			e.clock.Add(e.SessionIdle + time.Second)
			if e.viewer(t, third) != nil {
				t.Fatal("an idle session still authenticates")
			}
		})
	}
}

func TestDeleteCustomer_pendingCashoutRefused_thenDeletedAndLoginEnds(t *testing.T) {
	for _, st := range pgtest.Stores {
		t.Run(st, func(t *testing.T) {
			e, ctx := open(t, st), context.Background()
			e.customer(t, "ann")
			token, ann := e.login(t, "ann")
			testkit.WantCode(t, e.DeleteCustomer(ctx, "bank"), apperr.Forbidden)
			testkit.WantCode(t, e.DeleteCustomer(ctx, "nobody"), apperr.NotFound)
			issuer, err := e.Ledger.Issuer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Ledger.Run(ctx, 0, nil, func(tx *ledger.Tx) (*ent.Transaction, error) {
				return e.Ledger.Transfer(ctx, tx, ledger.Move{Kind: transaction.KindCREATION, DebitID: issuer, CreditID: ann.MainAccountID, AmountMinor: 100})
			})
			if err != nil {
				t.Fatal(err)
			}
			co := &cashouts.Service{Ledger: e.Ledger, Codes: e.Codes}
			pending, err := co.Create(ctx, ann, cashouts.Request{Amount: minorText(100), Channel: cashout.ChannelEMAIL})
			if err != nil {
				t.Fatal(err)
			}
			testkit.WantCode(t, e.DeleteCustomer(ctx, "ann"), apperr.PreconditionFailed)
			if e.viewer(t, token) == nil {
				t.Fatal("a refused deletion ended the login")
			}
			if _, err := co.Confirm(ctx, ann, pending.ID, e.lastCode(t)); err != nil {
				t.Fatal(err) // the money leaves: the accounts are empty
			}
			if err := e.DeleteCustomer(ctx, "ann"); err != nil {
				t.Fatal(err)
			}
			if e.viewer(t, token) != nil {
				t.Fatal("a deleted customer's session still authenticates")
			}
			_, err = e.Login(ctx, "ann", "ann-password")
			testkit.WantCode(t, err, apperr.Unauthenticated)
		})
	}
}

// minorText writes minor units as the client would type them (EUR, two decimals).
func minorText(amountMinor int64) string {
	return money.Currency{Code: "EUR", Scale: 2}.Format(amountMinor)
}
