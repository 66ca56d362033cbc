package ipc

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func mustEndpoint(t *testing.T, s string) transport.Endpoint {
	t.Helper()
	ep, err := transport.ParseEndpoint(s)
	require.NoError(t, err)
	return ep
}

func bind(t *testing.T, s string) transport.Listener {
	t.Helper()
	ln, err := New().Listen(mustEndpoint(t, s))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// exchange connects to ln, shakes hands and moves one message.
func exchange(t *testing.T, ln transport.Listener, dialTo string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		m   transport.Msg
		err error
	}
	acc := make(chan res, 1)
	go func() {
		// A bind probe may have left a connection in the backlog: skip
		// connections that fail their handshake.
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				acc <- res{err: err}
				return
			}
			if _, err = c.Handshake(ctx, &transport.Config{SocketType: "PULL"}); err != nil {
				_ = c.Close()
				continue
			}
			m, err := c.ReadMsg()
			_ = c.Close()
			acc <- res{m, err}
			return
		}
	}()
	d, err := New().Dial(ctx, mustEndpoint(t, dialTo))
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	require.NoError(t, d.WriteMsg(transport.NewMsg([]byte("over"), []byte("ipc"))))
	require.NoError(t, d.Flush())
	r := <-acc
	require.NoError(t, r.err)
	assert.Equal(t, [][]byte{[]byte("over"), []byte("ipc")}, r.m.Frames)
}

func TestAbsolutePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	ln := bind(t, "ipc://"+path)
	assert.Equal(t, "ipc://"+path, ln.Endpoint())
	exchange(t, ln, ln.Endpoint())
	require.NoError(t, ln.Close())
	_, err := os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket file")
}

func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	ln := bind(t, "ipc://rel.sock")
	_, err := os.Stat("rel.sock")
	require.NoError(t, err)
	exchange(t, ln, "ipc://rel.sock")
}

func TestAbstractName(t *testing.T) {
	name := fmt.Sprintf("ipc://@brook-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	ln := bind(t, name)
	exchange(t, ln, name)
	_, err := New().Listen(mustEndpoint(t, name))
	require.ErrorIs(t, err, transport.ErrAddrInUse)
}

func TestWildcardPath(t *testing.T) {
	ln := bind(t, "ipc://*")
	path := strings.TrimPrefix(ln.Endpoint(), "ipc://")
	require.NotEqual(t, "*", path)
	exchange(t, ln, ln.Endpoint())
	require.NoError(t, ln.Close())
	_, err := os.Stat(filepath.Dir(path))
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the temporary directory")
	_, err = New().Dial(context.Background(), mustEndpoint(t, "ipc://*"))
	assert.ErrorIs(t, err, transport.ErrBadEndpoint)
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stale.sock")
	// A socket file with nobody listening, as a killed process leaves it.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	old.SetUnlinkOnClose(false)
	require.NoError(t, old.Close())
	_, err = os.Stat(path)
	require.NoError(t, err)

	ln := bind(t, "ipc://"+path)
	exchange(t, ln, ln.Endpoint())
}

func TestLiveSocketIsNotStolen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.sock")
	ln := bind(t, "ipc://"+path)
	_, err := New().Listen(mustEndpoint(t, "ipc://"+path))
	require.ErrorIs(t, err, transport.ErrAddrInUse)
	exchange(t, ln, ln.Endpoint())
}

func TestRegularFileIsNotRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.txt")
	require.NoError(t, os.WriteFile(path, []byte("keep me"), 0o600))
	_, err := New().Listen(mustEndpoint(t, "ipc://"+path))
	require.ErrorIs(t, err, transport.ErrAddrInUse)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(b))
}

func TestBadPaths(t *testing.T) {
	tr := New()
	long := "/tmp/" + strings.Repeat("x", 103)
	require.Len(t, long, 108)
	tests := []struct {
		name string
		ep   transport.Endpoint
	}{
		{"too long", transport.Endpoint{Scheme: "ipc", Address: long}},
		{"empty", transport.Endpoint{Scheme: "ipc", Address: ""}},
		{"bare at", transport.Endpoint{Scheme: "ipc", Address: "@"}},
		{"nul", transport.Endpoint{Scheme: "ipc", Address: "/tmp/a\x00b"}},
		{"wrong scheme", transport.Endpoint{Scheme: "tcp", Address: "/tmp/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tr.Listen(tt.ep)
			assert.ErrorIs(t, err, transport.ErrBadEndpoint)
			_, err = tr.Dial(context.Background(), tt.ep)
			assert.ErrorIs(t, err, transport.ErrBadEndpoint)
		})
	}
	_, err := tr.Listen(mustEndpoint(t, "ipc://"+filepath.Join(t.TempDir(), "missing-dir", "s.sock")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing-dir")
	_, err = tr.Dial(context.Background(), mustEndpoint(t, "ipc://"+filepath.Join(t.TempDir(), "nobody.sock")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nobody.sock")
}

func TestAcceptHonoursContextAndClose(t *testing.T) {
	ln := bind(t, "ipc://"+filepath.Join(t.TempDir(), "ctx.sock"))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept(ctx)
		errc <- err
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	exchange(t, ln, ln.Endpoint())

	go func() {
		_, err := ln.Accept(context.Background())
		errc <- err
	}()
	require.NoError(t, ln.Close())
	require.ErrorIs(t, <-errc, transport.ErrClosed)
}
