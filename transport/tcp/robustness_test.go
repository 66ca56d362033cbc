package tcp

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// openFDs counts the file descriptors of this process.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// greeting is a valid ZMTP 3.1 NULL greeting with libzmq-like padding.
func greeting() []byte {
	g := make([]byte, 64)
	g[0], g[8], g[9], g[10], g[11] = 0xFF, 1, 0x7F, 3, 1
	copy(g[12:], "NULL")
	return g
}

// Many peers that connect and stall (silent, or stopping after half a
// greeting, or after a greeting followed by garbage) neither hold up
// Accept nor a well-behaved peer's handshake, every handshake in progress
// ends when its Conn is closed, and no file descriptor is left behind.
func TestStalledPeersDoNotBlockOthers(t *testing.T) {
	tr := New()
	fdsBefore := openFDs(t)
	ln, err := tr.Listen(mustEndpoint(t, "tcp://127.0.0.1:0"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := ln.Endpoint()[len("tcp://"):]

	const stalled = 30
	var raws []net.Conn
	for i := range stalled {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		raws = append(raws, c)
		switch i % 3 {
		case 1:
			_, err = c.Write(greeting()[:10])
		case 2:
			_, err = c.Write(append(greeting(), 0x01, 0x01, 'x')) // a message before READY
		}
		require.NoError(t, err)
	}
	cfg := &transport.Config{SocketType: "PULL", HandshakeTimeout: time.Minute}
	results := make(chan error, stalled+1)
	var accepted []transport.Conn
	for range stalled {
		c, err := ln.Accept(ctx)
		require.NoError(t, err, "Accept is not held up by peers that have not shaken hands")
		accepted = append(accepted, c)
		go func() {
			_, err := c.Handshake(ctx, cfg)
			results <- err
		}()
	}

	// A good peer gets through while the others stall.
	dialed, err := tr.Dial(ctx, mustEndpoint(t, ln.Endpoint()))
	require.NoError(t, err)
	good, err := ln.Accept(ctx)
	require.NoError(t, err)
	goodDone := make(chan error, 1)
	go func() {
		_, err := good.Handshake(ctx, cfg)
		goodDone <- err
	}()
	_, err = dialed.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	require.NoError(t, err)
	require.NoError(t, <-goodDone)
	require.NoError(t, dialed.WriteMsg(transport.Msg{Frames: [][]byte{[]byte("through")}}))
	require.NoError(t, dialed.Flush())
	m, err := good.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "through", string(m.Frames[0]))

	// The garbage senders fail on their own; closing ends the rest.
	failed := 0
	for failed < stalled/3 {
		err := <-results
		require.ErrorIs(t, err, transport.ErrProtocol)
		failed++
	}
	for _, c := range accepted {
		require.NoError(t, c.Close())
	}
	for range stalled - failed {
		err := <-results
		require.ErrorIs(t, err, transport.ErrClosed, "Close ends a handshake in progress")
	}
	require.NoError(t, dialed.Close())
	require.NoError(t, good.Close())
	require.NoError(t, ln.Close())
	for _, c := range raws {
		require.NoError(t, c.Close())
	}
	assert.Equal(t, fdsBefore, openFDs(t), "file descriptors leaked")
}
