package auth

import (
	"fmt"
	"net/netip"
	"strings"
)

// addrRule matches a peer address as ZAP gives it: an IP prefix, or an
// exact string for the addresses that are not IP addresses (the
// "localhost:uid:gid:pid" of an ipc peer).
type addrRule struct {
	prefix netip.Prefix
	exact  string
}

// parseAddrRule reads an IP address ("192.0.2.7", "::1"), a CIDR prefix
// ("10.0.0.0/8") or an ipc peer address: "localhost:1000:1000:4242", or
// with its last fields left out to match any ("localhost:1000:" matches
// every process of uid 1000).
func parseAddrRule(s string) (addrRule, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return addrRule{}, fmt.Errorf("brook: auth: address rule %q: %w", s, err)
		}
		return addrRule{prefix: p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return addrRule{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if strings.Contains(s, ":") {
		return addrRule{exact: s}, nil
	}
	return addrRule{}, fmt.Errorf("brook: auth: address rule %q is not an IP address, a CIDR prefix or an ipc peer address", s)
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
