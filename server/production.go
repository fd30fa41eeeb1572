package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"coffer/graph/store"
	"coffer/graph/transport"
)

// hstsValue is the Strict-Transport-Security answered outside development: a year, this host only
// (includeSubDomains would bind every other service of the operator's domain to HTTPS as well).
// Browsers ignore it over plain HTTP, so a deployment that terminates TLS at the proxy loses nothing.
const hstsValue = "max-age=31536000"

// productionFlags are the settings whose defaults differ between development (DEV=1) and
// production, and the proxies whose X-Forwarded-For is believed.
type productionFlags struct {
	playground, introspection, trustedProxies string
}

func registerProduction(fs *flag.FlagSet, getenv func(string) string) *productionFlags {
	pf := &productionFlags{}
	str := func(p *string, name, env, usage string) {
		fs.StringVar(p, name, getenv(env), usage+" ("+env+")")
	}
	str(&pf.playground, "playground", "PLAYGROUND", "true or false: serve the Playground at / (default: true only with DEV=1)")
	str(&pf.introspection, "introspection", "INTROSPECTION", "true or false: answer GraphQL introspection (__schema, __type) (default: true only with DEV=1)")
	str(&pf.trustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed; empty: none, the client is the TCP peer")
	return pf
}

// parse applies the settings to c, whose Dev must already be set.
func (pf *productionFlags) parse(c *Config) error {
	var err error
	if c.Playground, err = boolOr(pf.playground, c.Dev); err != nil {
		return fmt.Errorf("PLAYGROUND: %w", err)
	}
	if c.Hardening.Introspection, err = boolOr(pf.introspection, c.Dev); err != nil {
		return fmt.Errorf("INTROSPECTION: %w", err)
	}
	if c.TrustedProxies, err = transport.ParseTrustedProxies(pf.trustedProxies); err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	return checkDatabaseURL(c.DatabaseURL)
}

// boolOr parses v, or answers def when v is empty.
func boolOr(v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("not true or false: %q", v)
	}
	return b, nil
}

// errDatabaseURL refuses a DATABASE_URL that names neither store explicitly. The value itself is
// never quoted: it may hold a password.
var errDatabaseURL = errors.New("DATABASE_URL: neither a PostgreSQL URL (postgres://user@host/db) " +
	"nor a SQLite file (sqlite://PATH, file:PATH, or a path ending in .db, .sqlite or .sqlite3)")

// checkDatabaseURL refuses a DATABASE_URL that the store would otherwise have taken for the name of
// a new SQLite file: a mistyped scheme ("postgress://", "mysql://") or a key=value connection
// string would start a bank on an empty local database.
func checkDatabaseURL(url string) error {
	lower := strings.ToLower(url)
	switch {
	case url == "" || store.IsPostgres(url):
		return nil
	case strings.HasPrefix(url, "sqlite://") || strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
		if path == "" || strings.ContainsAny(path, "?#") {
			return fmt.Errorf("%w: the SQLite path is empty or carries options", errDatabaseURL)
		}
		return nil
	case strings.HasPrefix(lower, "sqlite:"):
		return fmt.Errorf("%w: write sqlite:// before the path (sqlite:///var/lib/coffer/coffer.db)", errDatabaseURL)
	case strings.Contains(url, "://") || strings.Contains(url, "="):
		return fmt.Errorf("%w: PostgreSQL URLs start with postgres:// or postgresql:// (no key=value strings)", errDatabaseURL)
	}
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(lower, ext) {
			return nil
		}
	}
	return errDatabaseURL
}

// strictTransport adds HSTS to every answer outside development.
func strictTransport(dev bool, next http.Handler) http.Handler {
	if dev {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}
