package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LocalEndpoint returns a fresh endpoint for transport on this machine,
// unique by tag: a loopback address with port 0 (the binder reports the
// port it got), an ipc path in the temporary directory, or an inproc
// name.
func LocalEndpoint(transport, tag string) string {
	name := fmt.Sprintf("mqbench-%d-%s", os.Getpid(), tag)
	switch transport {
	case "ipc":
		return "ipc://" + filepath.Join(os.TempDir(), name+".sock")
	case "inproc":
		return "inproc://" + name
	}
	return transport + "://127.0.0.1:0"
}

// DeriveReturnEndpoint returns the return-path endpoint that goes with
// ep when --return-endpoint is not given: the next port for host:port
// transports (port 0 stays 0), ".ret" appended to an ipc path, "-ret" to
// an inproc name.
func DeriveReturnEndpoint(ep string) (string, error) {
	scheme, addr, ok := strings.Cut(ep, "://")
	if !ok {
		return "", usagef("endpoint %q: want scheme://address", ep)
	}
	switch scheme {
	case "ipc":
		return ep + ".ret", nil
	case "inproc":
		return ep + "-ret", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("endpoint %q: want %s://host:port: %v", ep, scheme, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65534 {
		return "", usagef("endpoint %q: port %q cannot have a next port for the return path; give --return-endpoint", ep, port)
	}
	if p > 0 {
		p++
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(p)), nil
}
