package impl_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/quiccert"
)

// quicPair makes a bound PULL and a connected PUSH of im over quic://,
// each from its own Impl (as two processes would be) when files are
// given, from one Impl (one self-signed certificate) otherwise.
func quicPair(t *testing.T, name string, o impl.Options) (pull, push impl.Socket) {
	t.Helper()
	o.Transport = "quic"
	a, err := impl.New(name)
	require.NoError(t, err)
	b := a
	if !o.QUIC.SelfSigned() {
		b, err = impl.New(name)
		require.NoError(t, err)
	}
	pull, err = a.NewSocket(ctx(t), impl.Pull, o)
	require.NoError(t, err)
	push, err = b.NewSocket(ctx(t), impl.Push, o)
	require.NoError(t, err)
	ep, err := pull.Bind("quic://127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	return pull, push
}

// TestQUICCarriesMessages: brook and raw over quic://, with the process's
// self-signed certificate and with certificate files.
func TestQUICCarriesMessages(t *testing.T) {
	files, err := quiccert.Write(t.TempDir())
	require.NoError(t, err)
	for _, name := range []string{config.ImplBrook, config.ImplRaw} {
		for certs, q := range map[string]config.QUIC{"self-signed": {}, "files": files} {
			t.Run(name+"/"+certs, func(t *testing.T) {
				pull, push := quicPair(t, name, impl.Options{QUIC: q})
				defer pull.Close()
				defer push.Close()
				for i := range 100 {
					require.NoError(t, push.Send(ctx(t), [][]byte{fmt.Appendf(nil, "m%d", i)}))
				}
				if f, ok := push.(impl.Flusher); ok {
					require.NoError(t, f.Flush())
				}
				for i := range 100 {
					m, err := pull.Recv(ctx(t))
					require.NoError(t, err)
					require.Equal(t, fmt.Sprintf("m%d", i), string(m[0]))
				}
			})
		}
	}
}

// TestRawQUICLinger: over QUIC, closing the connection discards what is
// in flight, so a raw socket told to linger (two-process runs) closes by
// ending its stream and waiting for the peer to hang up: every message
// arrives although the sender closed first, and its Close returns only
// once the receiver closed. Without linger, Close does not wait. (n
// messages stay below quic-go's initial flow-control window, so the
// sender does not wait for the reader before Close.)
func TestRawQUICLinger(t *testing.T) {
	const n = 400
	pull, push := quicPair(t, config.ImplRaw, impl.Options{Linger: true})
	payload := make([]byte, 1000)
	for i := range n {
		payload[0], payload[1] = byte(i), byte(i>>8)
		require.NoError(t, push.Send(ctx(t), [][]byte{payload}))
	}
	closed := make(chan error, 1)
	go func() { closed <- push.Close() }()
	for i := range n {
		m, err := pull.Recv(ctx(t))
		require.NoError(t, err, "message %d", i)
		require.Equal(t, []byte{byte(i), byte(i >> 8)}, m[0][:2])
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the peer hung up", err)
	default:
	}
	require.NoError(t, pull.Close())
	require.NoError(t, <-closed)

	pull, push = quicPair(t, config.ImplRaw, impl.Options{})
	send(t, push, "x")
	_, err := pull.Recv(ctx(t))
	require.NoError(t, err)
	require.NoError(t, push.Close(), "returns without the peer")
	require.NoError(t, pull.Close())
}

// TestQUICCheck: both implementations run quic in one process, and across
// two only with certificate files (config validation says so first).
func TestQUICCheck(t *testing.T) {
	for _, name := range []string{config.ImplBrook, config.ImplRaw} {
		im, _ := impl.New(name)
		c, err := config.Parse([]string{"thr", "--transport", "quic"})
		require.NoError(t, err)
		require.NoError(t, im.Check(c), name)
		c.Role = config.Local // as if validation had been skipped
		require.ErrorIs(t, im.Check(c), impl.ErrUnsupported, name)
		c.QUIC = config.QUIC{Cert: "c", Key: "k"}
		require.NoError(t, im.Check(c), name)
	}
}
