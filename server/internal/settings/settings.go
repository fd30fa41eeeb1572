// Package settings reads a program's settings from one table. Each setting is declared once, as an
// environment variable with its default, help text and check; its flag, its line in --help and its
// row in the documentation's table are derived from that declaration, so they cannot disagree.
//
// A value comes from the flag when it is given, else from the environment when the variable is
// not empty, else from the default. A secret's value is never printed: --help only says that the
// environment sets it.
package settings

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Setting is one entry of the table.
type Setting struct {
	// Env is the environment variable, its unit in the name where it has one
	// (SMS_GLOBAL_PER_HOUR, MAX_BODY_BYTES); the flag is its lower-case, dashed form.
	Env string
	// Default is the value when neither the flag nor the environment gives one.
	Default string
	// Empty says what an empty Default means ("tracing off"), for --help and the docs. Markdown.
	Empty string
	// Help says what the setting does, in one sentence. Markdown: `code` and [links](x.md) are
	// printed plain by --help.
	Help string
	// Secret settings (passwords, keys, URLs with credentials) never show their value.
	Secret bool
	// Set checks a value and stores it. Its error need not name the setting: Parse adds the name.
	Set func(value string) error
}

// Flag is the setting's flag name: CODE_TTL is --code-ttl.
func (s Setting) Flag() string {
	return strings.ReplaceAll(strings.ToLower(s.Env), "_", "-")
}

// Group is the settings of one part of the program (HTTP, database, ...), in the order --help and
// the docs list them.
type Group struct {
	Name     string
	Settings []Setting
}

// Parse reads every setting and stores it through its Set, in table order: a setting's check may
// rely on the ones declared before it. With -h or --help it writes the usage to out and answers
// flag.ErrHelp; a bad flag is reported on out as well.
func Parse(program string, groups []Group, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { writeUsage(out, program, groups, getenv) }
	flagged := map[string]*string{}
	for _, g := range groups {
		for _, s := range g.Settings {
			flagged[s.Env] = fs.String(s.Flag(), "", plain(s.Help))
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, g := range groups {
		for _, s := range g.Settings {
			v := s.Default
			if e := getenv(s.Env); e != "" {
				v = e
			}
			if given[s.Flag()] {
				v = *flagged[s.Env]
			}
			if err := s.Set(v); err != nil {
				return fmt.Errorf("%s: %w", s.Env, err)
			}
		}
	}
	return nil
}

// writeUsage prints the settings by group: flag, variable, default, and whether the environment
// sets it (with the value, unless the setting is secret).
func writeUsage(out io.Writer, program string, groups []Group, getenv func(string) string) {
	fmt.Fprintf(out, "Usage of %s: every setting is an environment variable and a flag of the same meaning; the flag wins.\n", program)
	for _, g := range groups {
		fmt.Fprintf(out, "\n%s:\n", g.Name)
		for _, s := range g.Settings {
			line := "  --" + s.Flag() + " (" + s.Env + ")"
			switch e := getenv(s.Env); {
			case e != "" && s.Secret:
				line += " [set in the environment, not shown]"
			case e != "":
				line += fmt.Sprintf(" [set in the environment: %q]", e)
			}
			switch {
			case s.Default != "" && !s.Secret:
				line += ", default " + s.Default
			case s.Empty != "":
				line += ", empty: " + plain(s.Empty)
			}
			fmt.Fprintf(out, "%s\n      %s\n", line, plain(s.Help))
		}
	}
}

// defaultText is how the docs state the default (Markdown): the value, or what empty means.
func defaultText(s Setting) string {
	switch {
	case s.Default != "" && !s.Secret:
		return "`" + s.Default + "`"
	case s.Empty != "":
		return "empty: " + s.Empty
	}
	return "empty"
}

// plain removes the Markdown of a help text: backquotes, and links keep only their text.
func plain(md string) string {
	var b strings.Builder
	for i := 0; i < len(md); i++ {
		switch c := md[i]; c {
		case '`':
		case '[':
			// [text](target) prints as text.
			end := strings.Index(md[i:], "](")
			close := -1
			if end >= 0 {
				close = strings.IndexByte(md[i+end:], ')')
			}
			if end < 0 || close < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(plain(md[i+1 : i+end]))
			i += end + close
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
