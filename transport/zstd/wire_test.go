package zstd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect dials l with tr (scheme rewritten to tr's) and returns both
// handshaken ends: dialer as dtype, accepted side as ltype with cfg.
func connect(t testing.TB, tr transport.Transport, l transport.Listener, dtype string, lcfg *transport.Config) (dialed, accepted transport.Conn) {
	t.Helper()
	ctx := testCtx(t)
	type res struct {
		c   transport.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err == nil {
			_, err = c.Handshake(ctx, lcfg)
		}
		ch <- res{c, err}
	}()
	addr := l.Endpoint()[strings.Index(l.Endpoint(), "://")+3:]
	d, err := tr.Dial(ctx, transport.Endpoint{Scheme: tr.Schemes()[0], Address: addr})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	_, err = d.Handshake(ctx, &transport.Config{SocketType: dtype})
	r := <-ch
	require.NoError(t, err)
	require.NoError(t, r.err)
	t.Cleanup(func() { _ = r.c.Close() })
	return d, r.c
}

func listenZstd(t testing.TB, tr *Transport) transport.Listener {
	t.Helper()
	l, err := tr.Listen(transport.Endpoint{Scheme: Scheme, Address: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// TestPubCompressesOnceForAllSubscribers: one Transport (one PUB socket)
// writes the same message to three subscribers; its encoder runs once for
// the big part, and every subscriber gets the message.
func TestPubCompressesOnceForAllSubscribers(t *testing.T) {
	pub := New()
	t.Cleanup(func() { pub.codec.close() })
	l := listenZstd(t, pub)
	subs := make([]transport.Conn, 3)
	conns := make([]transport.Conn, 3)
	for i := range subs {
		subs[i], conns[i] = connect(t, New(), l, "SUB", &transport.Config{SocketType: "PUB"})
	}
	body := jsonLike(4096, 42)
	msg := transport.NewMsg([]byte("topic"), body)
	for _, c := range conns {
		require.NoError(t, c.WriteMsg(msg))
		require.NoError(t, c.Flush())
	}
	assert.Equal(t, int64(1), pub.codec.encodes.Load())
	for _, s := range subs {
		m, err := s.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, [][]byte{[]byte("topic"), body}, m.Frames)
	}
}

// plainPeer connects to a zstd+tcp listener with plain tcp, so the test
// can put any bytes in a part.
func plainPeer(t testing.TB, zt *Transport, maxMsg int64) (peer, victim transport.Conn) {
	l := listenZstd(t, zt)
	return connect(t, tcp.New(), l, "PUSH", &transport.Config{SocketType: "PULL", MaxMsgSize: maxMsg})
}

func TestWireViolationsDropTheConnection(t *testing.T) {
	dict := testDict(t)
	for _, tc := range []struct {
		name   string
		parts  [][][]byte // messages sent by the plain peer
		maxMsg int64
		want   error
	}{
		{"unknown sentinel", [][][]byte{{[]byte("hello world")}}, 0, ErrUnknownSentinel},
		{"short part", [][][]byte{{{0, 0}}}, 0, ErrUnknownSentinel},
		{"second dictionary", [][][]byte{{dict}, {dict}}, 0, ErrSecondDictionary},
		{"dictionary inside a multipart message", [][][]byte{{appendPlain(nil, []byte("a")), dict}}, 0, transport.ErrProtocol},
		{"bomb over the limit", [][][]byte{{bomb(1 << 40)}}, 1 << 20, transport.ErrTooLarge},
		{"bomb without a limit", [][][]byte{{bomb(1 << 40)}}, 0, transport.ErrTooLarge},
		{"frame without content size", [][][]byte{{missingFCS(t)}}, 0, ErrNoContentSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zt := New()
			t.Cleanup(func() {
				if zt.codec != nil {
					zt.codec.close()
				}
			})
			peer, victim := plainPeer(t, zt, tc.maxMsg)
			for _, parts := range tc.parts {
				require.NoError(t, peer.WriteMsg(transport.NewMsg(parts...)))
			}
			require.NoError(t, peer.Flush())
			m, err := victim.ReadMsg()
			require.Error(t, err, "delivered %d frames", len(m.Frames))
			assert.ErrorIs(t, err, tc.want)
			// The connection is gone: the peer sees it end.
			_, err = peer.ReadMsg()
			assert.Error(t, err)
		})
	}
}

// TestMaxMsgSizeIsOnPlaintext: the socket's limit applies to the
// decompressed size exactly, whatever the wire size.
func TestMaxMsgSizeIsOnPlaintext(t *testing.T) {
	zt := New()
	t.Cleanup(func() {
		if zt.codec != nil {
			zt.codec.close()
		}
	})
	l := listenZstd(t, zt)
	for _, tc := range []struct {
		name  string
		parts [][]byte
		ok    bool
	}{
		{"compressible at the limit", [][]byte{jsonLike(8192, 1)}, true},
		{"compressible one over", [][]byte{jsonLike(8193, 1)}, false},
		{"incompressible at the limit, three parts", [][]byte{noise(4000, 1), noise(4000, 2), noise(192, 3)}, true},
		{"incompressible one over, three parts", [][]byte{noise(4000, 1), noise(4000, 2), noise(193, 3)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender, receiver := connect(t, New(), l, "PUSH", &transport.Config{SocketType: "PULL", MaxMsgSize: 8192})
			require.NoError(t, sender.WriteMsg(transport.NewMsg(tc.parts...)))
			require.NoError(t, sender.Flush())
			m, err := receiver.ReadMsg()
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, tc.parts, m.Frames)
				return
			}
			assert.ErrorIs(t, err, transport.ErrTooLarge)
		})
	}
}
