// Package plaintext decides which characters a text input may hold. Control characters break
// stores and screens: PostgreSQL refuses a NUL in text (the request failed as INTERNAL) while
// SQLite stores it, and escapes, newlines and bidirectional overrides let a memo or a name show
// something other than what it holds ("Refund" reading backwards, a fake second line in a
// statement). Every text input is single-line: none of coffer's fields holds multi-line text.
package plaintext

import (
	"fmt"
	"strings"
)

// Problem returns what is wrong with s, or "" when it is acceptable text. It refuses the C0
// controls (U+0000–U+001F), DEL and the C1 controls (U+007F–U+009F), except those listed in
// allowed, and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), which reorder how text is displayed. Invalid UTF-8 cannot reach here: the JSON
// and GraphQL parsers replace it.
func Problem(s string, allowed string) string {
	for _, r := range s {
		switch {
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			if !strings.ContainsRune(allowed, r) {
				return fmt.Sprintf("must not contain control characters (U+%04X)", r)
			}
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return fmt.Sprintf("must not contain bidirectional formatting characters (U+%04X)", r)
		}
	}
	return ""
}

// JSONWhitespace are the control characters JSON text may hold between its tokens.
const JSONWhitespace = "\t\n\r"
