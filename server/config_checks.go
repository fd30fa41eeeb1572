package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"coffer/graph/store"
	"coffer/graph/transport"
)

// The checks of config_table.go that are coffer's own. Each stores a valid value; its error does
// not name the setting (settings.Parse does) and never quotes a secret.

// boolOr reads "true" or "false"; empty follows *def (DEV), which is set before.
func boolOr(p *bool, def *bool) func(string) error {
	return func(v string) error {
		if v == "" {
			*p = *def
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		*p = b
		return nil
	}
}

func trustedProxies(p *transport.TrustedProxies) func(string) error {
	return func(v string) (err error) {
		*p, err = transport.ParseTrustedProxies(v)
		return err
	}
}

// allowedOrigins refuses origins that are not exactly scheme://host[:port]: CORS compares origins
// as strings, and a wildcard would hand every site the credentials of a logged-in user.
func allowedOrigins(p *[]string) func(string) error {
	return func(v string) error {
		var origins []string
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(o, "*") {
				return fmt.Errorf("%q is not an origin like https://app.example.com (no wildcards)", o)
			}
			origins = append(origins, o)
		}
		*p = origins
		return nil
	}
}

// staffMaxBody is at least MAX_BODY_BYTES, which is set before.
func staffMaxBody(c *Config) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < c.MaxBodyBytes {
			return fmt.Errorf("not a size of at least MAX_BODY_BYTES: %q", v)
		}
		c.StaffMaxBodyBytes = n
		return nil
	}
}

func currencyScale(p *int) func(string) error {
	return func(v string) (err error) {
		*p, err = strconv.Atoi(v)
		return err
	}
}

// wholeAmount is a whole number of the currency's units, from 0; newApp checks it against the
// currency's bound.
func wholeAmount(p *int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("not a whole amount: %q", v)
		}
		*p = n
		return nil
	}
}

// databaseURL refuses a DATABASE_URL that the store would otherwise have taken for the name of a
// new SQLite file: a mistyped scheme ("postgress://", "mysql://") or a key=value connection string
// would start a bank on an empty local database.
func databaseURL(p *string) func(string) error {
	return func(v string) error {
		if err := checkDatabaseURL(v); err != nil {
			return err
		}
		*p = v
		return nil
	}
}

// errDatabaseURL refuses a DATABASE_URL that names neither store explicitly. The value itself is
// never quoted: it may hold a password.
var errDatabaseURL = errors.New("neither a PostgreSQL URL (postgres://user@host/db) " +
	"nor a SQLite file (sqlite://PATH, file:PATH, or a path ending in .db, .sqlite or .sqlite3)")

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

func logLevel(p *slog.Level) func(string) error {
	return func(v string) error {
		switch strings.ToLower(v) {
		case "debug":
			*p = slog.LevelDebug
		case "info":
			*p = slog.LevelInfo
		case "warn", "warning":
			*p = slog.LevelWarn
		case "error":
			*p = slog.LevelError
		default:
			return fmt.Errorf("not debug, info, warn or error: %q", v)
		}
		return nil
	}
}

func metricsAddr(p *string) func(string) error {
	return func(v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("not host:port: %q", v)
			}
		}
		*p = v
		return nil
	}
}

// otlpEndpoint refuses credentials in the URL: --help prints this setting, so a collector's
// credentials go in OTEL_EXPORTER_OTLP_HEADERS.
func otlpEndpoint(p *string) func(string) error {
	return func(v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("not an http(s) URL: %q", v)
			}
			if u.User != nil {
				return errors.New("no credentials in the URL; use OTEL_EXPORTER_OTLP_HEADERS")
			}
		}
		*p = v
		return nil
	}
}
