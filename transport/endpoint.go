package transport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Endpoint is a parsed endpoint URL such as "tcp://127.0.0.1:5555".
type Endpoint struct {
	// Scheme is the part before "://": tcp, ipc, inproc, quic, zstd+tcp.
	Scheme string
	// Address is the rest: host:port, a path, or an inproc name.
	Address string
}

// String returns the endpoint in URL form.
func (e Endpoint) String() string { return e.Scheme + "://" + e.Address }

// ParseEndpoint splits an endpoint into scheme and address and checks the
// address for the schemes brook knows (tcp, quic and zstd+tcp need
// host:port with a numeric port, "*" allowed as host; ipc needs a path;
// inproc a name). Errors match ErrBadEndpoint.
func ParseEndpoint(s string) (Endpoint, error) {
	scheme, addr, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return Endpoint{}, fmt.Errorf("%w %q: want scheme://address, e.g. tcp://127.0.0.1:5555", ErrBadEndpoint, s)
	}
	ep := Endpoint{Scheme: strings.ToLower(scheme), Address: addr}
	switch ep.Scheme {
	case "tcp", "quic", "zstd+tcp":
		if _, _, err := SplitHostPort(addr); err != nil {
			return Endpoint{}, fmt.Errorf("%w %q: %v", ErrBadEndpoint, s, err)
		}
	case "ipc":
		if addr == "" {
			return Endpoint{}, fmt.Errorf("%w %q: missing path", ErrBadEndpoint, s)
		}
		if strings.IndexByte(addr, 0) >= 0 {
			return Endpoint{}, fmt.Errorf("%w %q: path contains a NUL byte", ErrBadEndpoint, s)
		}
	case "inproc":
		if addr == "" {
			return Endpoint{}, fmt.Errorf("%w %q: missing name", ErrBadEndpoint, s)
		}
	}
	return ep, nil
}

// SplitHostPort splits "host:port" and checks the port is a number from 0
// to 65535. A host of "*" (any interface, as in libzmq) is returned as "".
func SplitHostPort(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		if !strings.Contains(addr, ":") {
			return "", 0, fmt.Errorf("missing port in %q", addr)
		}
		return "", 0, err
	}
	if p == "" {
		return "", 0, fmt.Errorf("missing port in %q", addr)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		if p == "*" {
			return normHost(h), 0, nil
		}
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return normHost(h), n, nil
}

func normHost(h string) string {
	if h == "*" {
		return ""
	}
	return h
}
