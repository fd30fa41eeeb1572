package settings

import (
	"fmt"
	"strings"
)

// Markdown is the documentation's table of the settings: a heading per group (at the given level,
// e.g. "###") and one row per setting with its variable, flag, default and help.
func Markdown(groups []Group, heading string) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s %s\n\n| variable | flag | default | meaning |\n|---|---|---|---|\n", heading, g.Name)
		for _, s := range g.Settings {
			b.WriteString(Row(s) + "\n")
		}
	}
	return b.String()
}

// Row is a setting's row in the documentation's table.
func Row(s Setting) string {
	help := s.Help
	if s.Secret {
		help += " (secret: never printed)"
	}
	return fmt.Sprintf("| `%s` | `--%s` | %s | %s |", s.Env, s.Flag(), defaultText(s), help)
}
