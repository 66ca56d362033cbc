package zmtp

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// fakeClock is a settable time source.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCookieJar(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	j := newCookieJar()
	j.now = clock.now
	c, s := newTestKeys(t), newTestKeys(t)

	cookie, err := j.seal(&c.public, &s.secret)
	require.NoError(t, err)
	require.Len(t, cookie, cookieSize)
	gotC, gotS, err := j.open(cookie)
	require.NoError(t, err)
	assert.Equal(t, c.public, gotC)
	assert.Equal(t, s.secret, gotS)
	_, _, err = j.open(cookie)
	assert.ErrorIs(t, err, ErrReplay, "a cookie opens once")

	forged := append([]byte(nil), cookie...)
	forged[40] ^= 1
	_, _, err = j.open(forged)
	assert.ErrorIs(t, err, ErrDecrypt)

	// A cookie outlives its key's turn as the current key by one turn.
	old, err := j.seal(&c.public, &s.secret)
	require.NoError(t, err)
	clock.t = clock.t.Add(cookieKeyLife + time.Second)
	fresh, err := j.seal(&c.public, &s.secret)
	require.NoError(t, err)
	_, _, err = j.open(old)
	assert.NoError(t, err, "the previous key still opens its cookies")
	clock.t = clock.t.Add(cookieKeyLife)
	_, _, err = j.open(fresh)
	assert.NoError(t, err)
	stale, err := j.seal(&c.public, &s.secret)
	require.NoError(t, err)
	clock.t = clock.t.Add(2 * cookieKeyLife)
	_, _, err = j.open(stale)
	assert.ErrorIs(t, err, ErrDecrypt, "an expired cookie is refused")
}

// A key retires early once it admitted maxCookieUses INITIATEs, and is
// gone at the next turn: the memory of used cookies stays bounded
// however many clients come.
func TestCookieJarBoundsUsedCookies(t *testing.T) {
	j := newCookieJar()
	c, s := newTestKeys(t), newTestKeys(t)
	first, err := j.seal(&c.public, &s.secret)
	require.NoError(t, err)
	for range 2*maxCookieUses + 10 {
		cookie, err := j.seal(&c.public, &s.secret)
		require.NoError(t, err)
		_, _, err = j.open(cookie)
		require.NoError(t, err)
	}
	j.mu.Lock()
	cur, prev := len(j.cur.used), 0
	if j.prev != nil {
		prev = len(j.prev.used)
	}
	j.mu.Unlock()
	assert.LessOrEqual(t, cur+prev, 2*maxCookieUses+1)
	_, _, err = j.open(first)
	assert.ErrorIs(t, err, ErrDecrypt, "the key that sealed the first cookie is gone")
}

// A flood of HELLOs costs each connection little memory: the server
// answers WELCOME and then holds nothing of the client's but the HELLO
// nonce, until INITIATE or the handshake timeout.
func TestCurveHelloFloodMemory(t *testing.T) {
	const n = 200
	server := newTestKeys(t)
	srvSec := curveServerFor(t, server, nil, "")
	hello := clientHello(t, server.public)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type pending struct {
		srv  *Conn
		done chan struct{}
	}
	var conns []pending
	var raws []net.Conn
	defer func() {
		for _, p := range conns {
			_ = p.srv.Close()
			<-p.done
		}
		for _, r := range raws {
			_ = r.Close()
		}
	}()
	base := liveHeap()
	for range n {
		raw, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		raws = append(raws, raw)
		a, err := ln.Accept()
		require.NoError(t, err)
		srv := NewConn(a, "s", "flood", Options{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = srv.Handshake(context.Background(), &transport.Config{SocketType: "PULL", Security: srvSec})
		}()
		conns = append(conns, pending{srv, done})
		_, err = raw.Write(append(rawGreeting(3, 1, mechanismCurve), hello...))
		require.NoError(t, err)
		// Read the server's greeting and WELCOME: it answered, and now waits.
		buf := make([]byte, greetingSize+2+1+len(cmdWelcome)+curveWelcomeData)
		require.NoError(t, raw.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err = io.ReadFull(raw, buf)
		require.NoError(t, err)
	}
	perConn := (liveHeap() - base) / n
	t.Logf("%d stalled CURVE handshakes after WELCOME: %d bytes of heap each", n, perConn)
	assert.Less(t, perConn, int64(4<<10))
}

// ZAP gets an ipc peer's process credentials as its address.
func TestZapAddressIPC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	a, err := ln.Accept()
	require.NoError(t, err)
	defer a.Close()
	want := ""
	if isLinux() {
		want = fmt.Sprintf("localhost:%d:%d:%d", os.Getuid(), os.Getgid(), os.Getpid())
	}
	assert.Equal(t, want, zapAddress(a, "ipc://"+path))
	assert.Equal(t, "192.0.2.1", zapAddress(nopStream{}, "tcp://192.0.2.1:5555"))
	assert.Equal(t, "::1", zapAddress(nopStream{}, "zstd+tcp://[::1]:5555"))
	assert.Equal(t, "", zapAddress(nopStream{}, "pipe"))
}

type nopStream struct{}

func (nopStream) Read([]byte) (int, error)    { return 0, nil }
func (nopStream) Write(p []byte) (int, error) { return len(p), nil }
func (nopStream) Close() error                { return nil }

func isLinux() bool { return runtime.GOOS == "linux" }
