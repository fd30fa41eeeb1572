package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// maxForwardedEntries bounds how much of X-Forwarded-For is read: a chain of proxies is a handful
// of hops, and a client may send a header of any length.
const maxForwardedEntries = 32

// TrustedProxies are the networks whose X-Forwarded-For entries coffer believes (TRUSTED_PROXIES).
// Empty: no proxy is trusted and the client is always the TCP peer.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of CIDRs ("10.0.0.0/8, fd00::/8"); a bare
// address stands for itself alone (/32 or /128).
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8 or an address", part)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared unmapped.
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses", part)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusts reports whether a is inside one of the trusted networks.
func (t TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the address of the client behind remoteAddr (the TCP peer, host:port) and the
// request's X-Forwarded-For header lines, in order. The header is believed only as far as trusted
// proxies wrote it: when the peer is a trusted proxy, the client is the first entry from the right
// that is not a trusted proxy (entries further left were written by the client itself, and anybody
// can write anything there). A peer that is not trusted is the client, whatever the header says.
// An entry that is not an address stops the walk: the last trusted address reached is the client.
func (t TrustedProxies) ClientAddr(remoteAddr string, forwardedFor []string) string {
	peer, ok := parseHostAddr(remoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			return remoteAddr
		}
		return host
	}
	if len(t) == 0 || !t.trusts(peer) {
		return peer.String()
	}
	entries := forwardedEntries(forwardedFor)
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseHostAddr(entries[i])
		if !ok {
			break
		}
		client = a
		if !t.trusts(a) {
			break
		}
	}
	return client.String()
}

// forwardedEntries splits the header lines into entries, keeping the rightmost
// maxForwardedEntries: several lines count as one comma-joined list (RFC 9110), and HAProxy adds
// a line of its own rather than appending to the client's.
func forwardedEntries(lines []string) []string {
	var entries []string
	for _, line := range lines {
		for _, e := range strings.Split(line, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	if len(entries) > maxForwardedEntries {
		entries = entries[len(entries)-maxForwardedEntries:]
	}
	return entries
}

// parseHostAddr reads an address with or without a port ("192.0.2.1", "192.0.2.1:443",
// "2001:db8::1", "[2001:db8::1]:443"), unmapped and without a zone.
func parseHostAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
