package ipc

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/pyzmq"
	"github.com/brookmq/brook/transport"
)

// TestInteropLibzmq: libzmq connects over ipc to a brook listener and a
// brook Conn connects to a libzmq listener; messages flow both ways.
func TestInteropLibzmq(t *testing.T) {
	pyzmq.Require(t)
	dir := t.TempDir()
	ours := "ipc://" + filepath.Join(dir, "brook.sock")
	theirs := "ipc://" + filepath.Join(dir, "libzmq.sock")
	ln := bind(t, ours)
	py := pyzmq.Start(t, pyzmq.Prelude+`
pull = ctx.socket(zmq.PULL)
pull.connect(sys.argv[1])
push = ctx.socket(zmq.PUSH)
push.bind(sys.argv[2])
emit("bound")
m = pull.recv_multipart()
push.send_multipart([b"echo"] + m)
sys.stdin.read()
pull.close(linger=0)
push.close(linger=1000)
`, ours, theirs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in, err := ln.Accept(ctx)
	require.NoError(t, err)
	defer in.Close()
	info, err := in.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	assert.Equal(t, "PULL", info.SocketType)
	require.Equal(t, `["bound"]`, py.Line(0))

	out, err := New().Dial(ctx, mustEndpoint(t, theirs))
	require.NoError(t, err)
	defer out.Close()
	_, err = out.Handshake(ctx, &transport.Config{SocketType: "PULL"})
	require.NoError(t, err)

	require.NoError(t, in.WriteMsg(transport.NewMsg([]byte("over"), []byte{}, make([]byte, 300))))
	require.NoError(t, in.Flush())
	m, err := out.ReadMsg()
	require.NoError(t, err)
	require.Len(t, m.Frames, 4)
	assert.Equal(t, "echo", string(m.Frames[0]))
	assert.Equal(t, "over", string(m.Frames[1]))
	assert.Empty(t, m.Frames[2])
	assert.Equal(t, make([]byte, 300), m.Frames[3])
	py.CloseInput()
	py.Wait(0)
}
