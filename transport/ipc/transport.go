package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// maxPathLen is the longest usable unix socket path: sun_path holds 108
// bytes including the terminating NUL.
const maxPathLen = 107

// Transport dials and listens on ipc:// endpoints. It is safe for
// concurrent use.
type Transport struct{}

var _ transport.Transport = (*Transport)(nil)

// New returns the ipc:// transport.
func New() *Transport { return &Transport{} }

// Schemes returns "ipc".
func (t *Transport) Schemes() []string { return []string{"ipc"} }

// Dial connects to the socket at ep's path, honouring ctx. The returned
// Conn has not shaken hands.
func (t *Transport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	path, err := checkPath(ep, false)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("brook: ipc dial %s: %w", ep, err)
	}
	return t.wrap(c.(*net.UnixConn), path), nil
}

// Listen binds ep's path. A socket file nobody listens on any more is
// replaced; a live one gives an error matching transport.ErrAddrInUse, and
// so does any other existing file, which is never removed.
func (t *Transport) Listen(ep transport.Endpoint) (transport.Listener, error) {
	path, err := checkPath(ep, true)
	if err != nil {
		return nil, err
	}
	var tmpDir string
	if path == "*" {
		if tmpDir, err = os.MkdirTemp("", "brook-ipc-"); err != nil {
			return nil, fmt.Errorf("brook: ipc bind %s: %w", ep, err)
		}
		path = filepath.Join(tmpDir, "socket")
		if len(path) > maxPathLen {
			_ = os.RemoveAll(tmpDir)
			return nil, fmt.Errorf("%w %q: temporary socket path %q is longer than %d bytes", transport.ErrBadEndpoint, ep, path, maxPathLen)
		}
	}
	ln, err := listen(path)
	if err != nil {
		if tmpDir != "" {
			_ = os.RemoveAll(tmpDir)
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: %s: %w", transport.ErrAddrInUse, ep, err)
		}
		return nil, fmt.Errorf("brook: ipc bind %s: %w", ep, err)
	}
	return &listener{t: t, ln: ln, path: path, tmpDir: tmpDir}, nil
}

// listen binds path, replacing a stale socket file.
func listen(path string) (*net.UnixListener, error) {
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	ln, err := net.ListenUnix("unix", addr)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || isAbstract(path) {
		return ln, err
	}
	if err := removeStale(path, err); err != nil {
		return nil, err
	}
	return net.ListenUnix("unix", addr)
}

// checkPath validates ep and returns its path. "*" is returned as is when
// binding.
func checkPath(ep transport.Endpoint, bind bool) (string, error) {
	if ep.Scheme != "ipc" {
		return "", fmt.Errorf("%w %q: the ipc transport does not serve %q", transport.ErrBadEndpoint, ep, ep.Scheme)
	}
	path := ep.Address
	switch {
	case path == "":
		return "", fmt.Errorf("%w %q: missing path", transport.ErrBadEndpoint, ep)
	case path == "*" && !bind:
		return "", fmt.Errorf("%w %q: cannot connect to a wildcard path", transport.ErrBadEndpoint, ep)
	case path == "*":
		return path, nil
	case path == "@":
		return "", fmt.Errorf("%w %q: missing abstract socket name", transport.ErrBadEndpoint, ep)
	case len(path) > maxPathLen:
		return "", fmt.Errorf("%w %q: path is %d bytes, unix sockets allow at most %d", transport.ErrBadEndpoint, ep, len(path), maxPathLen)
	}
	for i := 0; i < len(path); i++ {
		if path[i] == 0 {
			return "", fmt.Errorf("%w %q: path contains a NUL byte", transport.ErrBadEndpoint, ep)
		}
	}
	return path, nil
}

// isAbstract reports whether path names a Linux abstract socket.
func isAbstract(path string) bool { return len(path) > 0 && path[0] == '@' }

// wrap turns a unix connection into an unshaken ZMTP Conn named after the
// socket path.
func (t *Transport) wrap(c *net.UnixConn, path string) *zmtp.Conn {
	addr := "ipc://" + path
	return zmtp.NewConn(c, addr, addr, zmtp.Options{})
}
