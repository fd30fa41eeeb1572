package settings

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// table is a small table of each kind: a text, a count, a duration and a secret.
func table(name *string, n *int, d *time.Duration, key *string) []Group {
	return []Group{
		{Name: "One", Settings: []Setting{
			{Env: "NAME", Default: "coffer", Help: "the `name`", Set: String(name)},
			{Env: "RETRIES_PER_HOUR", Default: "3", Help: "retries; `0` off", Set: Count(n)},
		}},
		{Name: "Two", Settings: []Setting{
			{Env: "WAIT", Default: "2s", Help: "see [the docs](x.md#wait)", Set: Duration(d)},
			{Env: "KEY", Secret: true, Empty: "generated", Help: "the key", Set: String(key)},
		}},
	}
}

func TestParse_flagThenEnvironmentThenDefault(t *testing.T) {
	var name, key string
	var n int
	var d time.Duration
	env := map[string]string{"NAME": "from-env", "RETRIES_PER_HOUR": "5", "KEY": "k-env"}
	err := Parse("x", table(&name, &n, &d, &key), []string{"--retries-per-hour=7", "-key", "k-flag"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil || name != "from-env" || n != 7 || d != 2*time.Second || key != "k-flag" {
		t.Errorf("got %q %d %v %q, %v; want from-env 7 2s k-flag", name, n, d, key, err)
	}
	// An explicit empty flag is a value, not "unset".
	err = Parse("x", table(&name, &n, &d, &key), []string{"--name="}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || name != "" {
		t.Errorf("--name= gave %q, %v", name, err)
	}
}

func TestParse_badValueNamesTheSetting(t *testing.T) {
	var name, key string
	var n int
	var d time.Duration
	for _, tt := range []struct{ env, give, want string }{
		{"RETRIES_PER_HOUR", "-1", `RETRIES_PER_HOUR: not a count: "-1"`},
		{"WAIT", "5", `WAIT: not a duration: "5"`},
		{"WAIT", "-1s", `WAIT: not a duration: "-1s"`},
	} {
		err := Parse("x", table(&name, &n, &d, &key), nil, func(k string) string {
			return map[string]string{tt.env: tt.give}[k]
		}, io.Discard)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s=%s: %v, want %s", tt.env, tt.give, err, tt.want)
		}
	}
	if err := Parse("x", table(&name, &n, &d, &key), []string{"--nope=1"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

func TestHelp_groupsDefaultsAndNoSecretValue(t *testing.T) {
	var name, key string
	var n int
	var d time.Duration
	env := map[string]string{"KEY": "very-secret-key", "NAME": "bank"}
	var out strings.Builder
	err := Parse("x", table(&name, &n, &d, &key), []string{"--help"}, func(k string) string { return env[k] }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, want := range []string{
		"\nOne:\n  --name (NAME) [set in the environment: \"bank\"], default coffer\n      the name\n",
		"  --retries-per-hour (RETRIES_PER_HOUR), default 3\n      retries; 0 off\n",
		"\nTwo:\n  --wait (WAIT), default 2s\n      see the docs\n",
		"  --key (KEY) [set in the environment, not shown], empty: generated\n      the key\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "very-secret") {
		t.Errorf("--help prints the secret:\n%s", help)
	}
}

func TestMarkdown_aTablePerGroup(t *testing.T) {
	var name, key string
	var n int
	var d time.Duration
	got := Markdown(table(&name, &n, &d, &key), "###")
	want := "### One\n\n| variable | flag | default | meaning |\n|---|---|---|---|\n" +
		"| `NAME` | `--name` | `coffer` | the `name` |\n" +
		"| `RETRIES_PER_HOUR` | `--retries-per-hour` | `3` | retries; `0` off |\n" +
		"\n### Two\n\n| variable | flag | default | meaning |\n|---|---|---|---|\n" +
		"| `WAIT` | `--wait` | `2s` | see [the docs](x.md#wait) |\n" +
		"| `KEY` | `--key` | empty: generated | the key (secret: never printed) |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestValues_rangesAndSwitches(t *testing.T) {
	var n int
	var d time.Duration
	var on bool
	var size int64
	tests := []struct {
		set     func(string) error
		give    string
		wantErr string
	}{
		{CountIn(&n, 0, 1000), "1001", `not a count from 0 to 1000: "1001"`},
		{CountIn(&n, 0, 1000), "0", ""},
		{PositiveCount(&n), "0", `not a positive count: "0"`},
		{DurationIn(&d, 0, 100*time.Millisecond), "101ms", `not a duration from 0 to 100ms: "101ms"`},
		{DurationIn(&d, 0, 100*time.Millisecond), "0", ""},
		{Size(&size), "0", `not a size: "0"`},
		{Switch(&on), "maybe", ""},
	}
	for _, tt := range tests {
		err := tt.set(tt.give)
		if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
			t.Errorf("%q: %v, want %q", tt.give, err, tt.wantErr)
		}
	}
	for give, want := range map[string]bool{"1": true, "TRUE": true, "true": true, "0": false, "yes": false, "": false} {
		if _ = Switch(&on)(give); on != want {
			t.Errorf("Switch(%q) = %v", give, on)
		}
	}
}
