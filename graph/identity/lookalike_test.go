package identity

import "testing"

func TestSkeleton_lookAlikesCollide(t *testing.T) {
	tests := []struct{ give, want string }{
		{"alice", "alice"},
		{"a1ice", "alice"},
		{"AdRnIn", "admin"},
		{"аdmin", "admin"},             // Cyrillic а
		{"ｂａｎｋ", "bank"},               // full-width
		{"exаmple.com", "example.com"}, // Cyrillic а
		{"αlice", "alice"},             // Greek alpha
		{"josé", "josé"},               // an accent is no look-alike of its letter
	}
	for _, tt := range tests {
		if got := Skeleton(tt.give); got != tt.want {
			t.Errorf("Skeleton(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestMixedScript(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"example", false}, {"exаmple", true}, {"пример", false}, {"alice.smith-2", false}, {"alοce", true},
	}
	for _, tt := range tests {
		if got := mixedScript(tt.give); got != tt.want {
			t.Errorf("mixedScript(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestIsReservedName(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"admin", true}, {"administrator2", true}, {"bank.security", true}, {"support", true}, {"root", true},
		{"alice.support", true}, {"adrnin", true}, {"supp0rt", true}, {"coffer-help", true},
		{"alice", false}, {"rooney", false}, {"ana.lopez", false}, {"banksy", true}, {"carl.online", false},
	}
	for _, tt := range tests {
		if got := IsReservedName(tt.give); got != tt.want {
			t.Errorf("IsReservedName(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestCheckEmailLookalike(t *testing.T) {
	tests := []struct {
		give string
		bad  bool
	}{
		{"alice@example.com", false}, {"alice@exаmple.com", true}, {"ivan@пример.рф", false},
		{"alice@c0ffer.com", true}, {"alice@bank.com", false}, {"support@example.com", true},
		{"аlice@example.com", true},
	}
	for _, tt := range tests {
		if got := checkEmailLookalike(tt.give); (got != "") != tt.bad {
			t.Errorf("checkEmailLookalike(%q) = %q, want refused %v", tt.give, got, tt.bad)
		}
	}
}
