package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"coffer/server/internal/settings"
)

var updateSettingsDocs = flag.Bool("update", false, "rewrite the settings table of docs/configuration.md from config_table.go")

// The settings table of docs/configuration.md sits between these lines.
const (
	settingsDocsBegin = "<!-- settings: generated from server/config_table.go by `go test ./server -run TestSettings_docsTableIsTheDeclaredOne -update`; do not edit by hand -->"
	settingsDocsEnd   = "<!-- end of the settings table -->"
)

// declared lists every setting of configTable.
func declared() []settings.Setting {
	var all []settings.Setting
	for _, g := range configTable(&Config{}) {
		all = append(all, g.Settings...)
	}
	return all
}

// TestSettings_docsTableIsTheDeclaredOne checks docs/configuration.md against config_table.go:
// every setting documented with its flag, default and help, and nothing documented that is not a
// setting. With -update it rewrites the table instead.
func TestSettings_docsTableIsTheDeclaredOne(t *testing.T) {
	path := filepath.Join("..", "docs", "configuration.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(raw), settingsDocsBegin)
	table, after, ok2 := strings.Cut(rest, settingsDocsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the lines around the settings table:\n%s\n%s", path, settingsDocsBegin, settingsDocsEnd)
	}
	want := "\n" + settings.Markdown(configTable(&Config{}), "###") + "\n"
	if *updateSettingsDocs {
		if err := os.WriteFile(path, []byte(before+settingsDocsBegin+want+settingsDocsEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	documented := map[string]string{}
	rowEnv := regexp.MustCompile("^\\| `([A-Z0-9_]+)` \\|")
	for _, line := range strings.Split(table, "\n") {
		if m := rowEnv.FindStringSubmatch(line); m != nil {
			documented[m[1]] = line
		}
	}
	for _, s := range declared() {
		switch row, ok := documented[s.Env]; {
		case !ok:
			t.Errorf("%s is a setting but not documented", s.Env)
		case row != settings.Row(s):
			t.Errorf("%s is documented as\n%s\nbut declared as\n%s", s.Env, row, settings.Row(s))
		}
		delete(documented, s.Env)
	}
	for env := range documented {
		t.Errorf("%s is documented but is no setting", env)
	}
	if !t.Failed() && table != want {
		t.Errorf("the groups or the order of the settings differ from config_table.go")
	}
	if t.Failed() {
		t.Log("regenerate with: go test ./server -run TestSettings_docsTableIsTheDeclaredOne -update")
	}
}

// TestSettings_declaredOnceWithValidDefaults checks the table itself: one entry per variable, names
// in capitals (the flag is derived from them), no default for a secret (it would be printed), help
// for each, and every default accepted by its own check.
func TestSettings_declaredOnceWithValidDefaults(t *testing.T) {
	name := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	seen := map[string]bool{}
	for _, s := range declared() {
		if seen[s.Env] {
			t.Errorf("%s is declared twice", s.Env)
		}
		seen[s.Env] = true
		if !name.MatchString(s.Env) {
			t.Errorf("%q is not an environment variable name", s.Env)
		}
		if s.Secret && s.Default != "" {
			t.Errorf("%s is secret but has a default, which --help would print", s.Env)
		}
		if s.Help == "" || s.Set == nil {
			t.Errorf("%s lacks help or a check", s.Env)
		}
	}
	if len(seen) < 60 {
		t.Errorf("%d settings declared; the table lost some", len(seen))
	}
	if _, err := parseConfigTo(nil, func(string) string { return "" }, io.Discard); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}

// TestHelp_everySettingWithItsDefault: --help lists each declared setting by flag and variable,
// with its default.
func TestHelp_everySettingWithItsDefault(t *testing.T) {
	var out strings.Builder
	if _, err := parseConfigTo([]string{"--help"}, func(string) string { return "" }, &out); err != flag.ErrHelp {
		t.Fatalf("--help: %v", err)
	}
	for _, s := range declared() {
		want := "--" + s.Flag() + " (" + s.Env + ")"
		if s.Default != "" {
			want += ", default " + s.Default + "\n"
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSettings_badValueRefusedNamingIt gives every setting a value nothing should accept: each
// either accepts it as text or refuses naming the setting, without quoting a secret's value.
func TestSettings_badValueRefusedNamingIt(t *testing.T) {
	const bad = "postgress://user:pw-marker@host/-1x"
	refused := 0
	for _, s := range declared() {
		_, err := parseConfigTo(nil, func(k string) string {
			if k == s.Env {
				return bad
			}
			return ""
		}, io.Discard)
		if err == nil {
			continue
		}
		refused++
		if !strings.HasPrefix(err.Error(), s.Env+": ") {
			t.Errorf("%s=%q: %v, want an error naming %s", s.Env, bad, err, s.Env)
		}
		if s.Secret && strings.Contains(err.Error(), "pw-marker") {
			t.Errorf("%s: the error quotes the secret: %v", s.Env, err)
		}
	}
	if refused < 50 {
		t.Errorf("only %d settings refused %q", refused, bad)
	}
}
