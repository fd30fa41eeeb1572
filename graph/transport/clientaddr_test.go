package transport

import (
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		give    string
		want    string // the prefixes, space-separated
		wantErr bool
	}{
		{give: "", want: ""},
		{give: "10.0.0.0/8", want: "10.0.0.0/8"},
		{give: " 10.1.2.3/8 , 192.0.2.7 ,fd00::/8,", want: "10.0.0.0/8 192.0.2.7/32 fd00::/8"},
		{give: "2001:db8::1", want: "2001:db8::1/128"},
		{give: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{give: "::ffff:192.0.2.1", want: "192.0.2.1/32"},
		{give: "10.0.0.0/33", wantErr: true},
		{give: "proxy.example", wantErr: true},
		{give: "10.0.0.0/8;rm", wantErr: true},
		{give: "fe80::1%eth0", wantErr: true},
		{give: "*", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.give)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTrustedProxies(%q) error %v, want error %v", tt.give, err, tt.wantErr)
			continue
		}
		var names []string
		for _, p := range got {
			names = append(names, p.String())
		}
		if s := strings.Join(names, " "); !tt.wantErr && s != tt.want {
			t.Errorf("ParseTrustedProxies(%q) = %q, want %q", tt.give, s, tt.want)
		}
	}
}

func TestClientAddr_believesOnlyTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 127.0.0.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted TrustedProxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxy trusted: the peer, header ignored", nil, "10.0.0.5:4000", []string{"198.51.100.1"}, "10.0.0.5"},
		{"untrusted peer spoofing the header", trusted, "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer naming a trusted proxy", trusted, "203.0.113.9:5000", []string{"10.0.0.1"}, "203.0.113.9"},
		{"trusted peer without header", trusted, "10.0.0.5:4000", nil, "10.0.0.5"},
		{"trusted peer, one client", trusted, "10.0.0.5:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client's own entries left of the real one", trusted, "10.0.0.5:4000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"client claims a trusted address: the proxy's entry still wins", trusted, "10.0.0.5:4000", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", trusted, "127.0.0.1:4000", []string{"198.51.100.1, 10.2.0.1, 10.3.0.1"}, "198.51.100.1"},
		{"several header lines are one list", trusted, "10.0.0.5:4000", []string{"6.6.6.6", "198.51.100.1, 10.2.0.1"}, "198.51.100.1"},
		{"spoofed first line, proxy's own line last", trusted, "10.0.0.5:4000", []string{"10.1.1.1", "198.51.100.7"}, "198.51.100.7"},
		{"entry with a port", trusted, "10.0.0.5:4000", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 peer and client", trusted, "[fd00::5]:4000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"bracketed IPv6 with a port", trusted, "[fd00::5]:4000", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv6 untrusted peer", trusted, "[2001:db8::9]:4000", []string{"198.51.100.1"}, "2001:db8::9"},
		{"IPv4-mapped peer is trusted as IPv4", trusted, "[::ffff:10.0.0.5]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped client is reported as IPv4", trusted, "10.0.0.5:4000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"zone dropped", trusted, "[fd00::5%eth0]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"garbage written by the trusted proxy: the proxy", trusted, "10.0.0.5:4000", []string{"unknown"}, "10.0.0.5"},
		{"garbage after a trusted hop: that hop", trusted, "10.0.0.5:4000", []string{"198.51.100.1, junk, 10.2.0.1"}, "10.2.0.1"},
		{"client's garbage left of the real entry is never read", trusted, "10.0.0.5:4000", []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"empty entries", trusted, "10.0.0.5:4000", []string{" , "}, "10.0.0.5"},
		{"only trusted entries: the leftmost", trusted, "10.0.0.5:4000", []string{"10.7.0.1, 10.8.0.1"}, "10.7.0.1"},
		{"a long header is read from the right only", trusted, "10.0.0.5:4000",
			[]string{strings.Repeat("10.1.1.1, ", 100) + "198.51.100.1"}, "198.51.100.1"},
		{"a long trusted chain stops at the bound", trusted, "10.0.0.5:4000",
			[]string{"198.51.100.1, " + strings.Repeat("10.1.1.1, ", 40) + "10.1.1.2"}, "10.1.1.1"},
		{"peer without a port", trusted, "203.0.113.9", nil, "203.0.113.9"},
		{"unparseable peer is kept as given", trusted, "pipe", []string{"198.51.100.1"}, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trusted.ClientAddr(tt.peer, tt.xff); got != tt.want {
				t.Errorf("ClientAddr(%q, %q) = %q, want %q", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}
