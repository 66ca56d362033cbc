package auth

import (
	"fmt"
	"net/netip"
	"strings"
)

// addrRule matches a peer address as ZAP gives it: an IP prefix, or an
// exact string for the addresses that are not IP addresses (the
// ":uid:gid:pid" of an ipc peer).
type addrRule struct {
	prefix netip.Prefix
	exact  string
}

// parseAddrRule reads an IP address ("192.0.2.7", "::1"), a CIDR prefix
// ("10.0.0.0/8") or, starting with ':', an ipc peer address (":1000:1000:"
// matches every process of uid 1000 and gid 1000: a trailing field left
// empty matches anything).
func parseAddrRule(s string) (addrRule, error) {
	switch {
	case strings.HasPrefix(s, ":"):
		return addrRule{exact: s}, nil
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return addrRule{}, fmt.Errorf("brook: auth: address rule %q: %w", s, err)
		}
		return addrRule{prefix: p.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return addrRule{}, fmt.Errorf("brook: auth: address rule %q: %w", s, err)
	}
	return addrRule{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
}

// matches reports whether the rule covers address.
func (r addrRule) matches(address string) bool {
	if r.exact != "" {
		if strings.HasSuffix(r.exact, ":") {
			return strings.HasPrefix(address, r.exact)
		}
		return address == r.exact
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	return r.prefix.Contains(a.Unmap()) || r.prefix.Contains(a)
}

func (r addrRule) String() string {
	if r.exact != "" {
		return r.exact
	}
	return r.prefix.String()
}

func anyMatch(rules []addrRule, address string) bool {
	for _, r := range rules {
		if r.matches(address) {
			return true
		}
	}
	return false
}
