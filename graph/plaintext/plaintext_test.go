package plaintext

import "testing"

func TestProblem(t *testing.T) {
	tests := []struct {
		name, give, allowed string
		wantRefused         bool
	}{
		{"plain", "Alice Smith", "", false},
		{"accents and other scripts", "Zoë Ñúñez 山田 مرحبا", "", false},
		{"right-to-left mark is not an override", "abc\u200fdef", "", false},
		{"NUL", "alice\x00", "", true},
		{"newline", "line one\nline two", "", true},
		{"tab", "a\tb", "", true},
		{"escape", "\x1b[31mred", "", true},
		{"DEL", "a\x7f", "", true},
		{"C1 CSI", "a\u009b", "", true},
		{"right-to-left override", "Refund \u202egnp.exe", "", true},
		{"left-to-right embedding", "a\u202ab", "", true},
		{"first strong isolate", "a\u2068b", "", true},
		{"pop directional isolate", "a\u2069b", "", true},
		{"JSON whitespace allowed", "{\n\t\"a\": 1\r\n}", JSONWhitespace, false},
		{"NUL never allowed by JSON whitespace", "{\"a\": \"\x00\"}", JSONWhitespace, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Problem(tt.give, tt.allowed); (got != "") != tt.wantRefused {
				t.Errorf("Problem(%q) = %q, want refused %v", tt.give, got, tt.wantRefused)
			}
		})
	}
}
