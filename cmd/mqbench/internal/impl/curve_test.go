package impl_test

import (
	"context"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// curvePair makes a CURVE server PULL of srv bound on loopback and a CURVE
// client PUSH of cli connected to it.
func curvePair(t *testing.T, srv, cli string, clientRole impl.CurveRole) (pull, push impl.Socket) {
	t.Helper()
	si, err := impl.New(srv)
	require.NoError(t, err)
	ci, err := impl.New(cli)
	require.NoError(t, err)
	pull, err = si.NewSocket(ctx(t), impl.Pull, impl.Options{Transport: "tcp", Curve: impl.CurveServer})
	require.NoError(t, err)
	t.Cleanup(func() { pull.Close() })
	push, err = ci.NewSocket(ctx(t), impl.Push, impl.Options{Transport: "tcp", Curve: clientRole})
	require.NoError(t, err)
	t.Cleanup(func() { push.Close() })
	ep, err := pull.Bind("tcp://127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, push.Connect(ep))
	return pull, push
}

// --curve makes the binding side a CURVE server and the connecting side
// its client, with keys both know: messages of every size flow.
func TestCurveSocketsCarryMessages(t *testing.T) {
	pull, push := curvePair(t, config.ImplBrook, config.ImplBrook, impl.CurveClient)
	for _, size := range []int{1, 256, 64 << 10} {
		body := make([]byte, size)
		body[size-1] = byte(size)
		require.NoError(t, push.Send(ctx(t), [][]byte{body}))
		m, err := pull.Recv(ctx(t))
		require.NoError(t, err)
		require.Len(t, m, 1)
		assert.Equal(t, body, m[0])
	}
}

// A connecting side without CURVE gets nothing through to a CURVE server:
// the benchmark cannot silently measure an unencrypted connection.
func TestCurveServerRefusesPlainClient(t *testing.T) {
	pull, push := curvePair(t, config.ImplBrook, config.ImplBrook, impl.CurveOff)
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = push.Send(c, [][]byte{[]byte("in clear")}) }()
	short, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	_, err := pull.Recv(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// Implementations without CURVE refuse --curve in Check, and --curve
// needs a ZMTP transport.
func TestCurveCheck(t *testing.T) {
	cfg := &config.Config{Transport: "tcp", Pattern: config.PushPull, Clients: 1, Subscribers: 1, Curve: true}
	for _, name := range []string{config.ImplZmq4, config.ImplRaw} {
		im, err := impl.New(name)
		require.NoError(t, err)
		require.ErrorIs(t, im.Check(cfg), impl.ErrUnsupported, name)
	}
	im, err := impl.New(config.ImplBrook)
	require.NoError(t, err)
	require.NoError(t, im.Check(cfg))
}
