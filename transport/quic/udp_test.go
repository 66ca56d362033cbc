package quic

import (
	"bytes"
	"log"
	"log/slog"
	"net"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBufferWarningSuppressed checks that quic-go (the version in go.mod)
// still sizes socket buffers through udpConn's SetReadBuffer and
// SetWriteBuffer, so its stderr warning can never fire, and that the
// socket is fully usable afterwards.
func TestBufferWarningSuppressed(t *testing.T) {
	var stdlog bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&stdlog)
	t.Cleanup(func() { log.SetOutput(prev) })

	var ours bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&ours, &slog.HandlerOptions{Level: slog.LevelDebug}))
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	u := newUDPConn(udp, logger)
	_, err = u.SyscallConn()
	require.ErrorIs(t, err, errSizingBuffers)

	server, client := certs(t)
	qt := &quic.Transport{Conn: u}
	ln, err := qt.Listen(server, nil)
	require.NoError(t, err)
	u.mu.Lock()
	sized := u.sized
	u.mu.Unlock()
	assert.True(t, sized, "quic-go did not size the buffers through udpConn")
	_, err = u.SyscallConn()
	assert.NoError(t, err)

	// The socket works: a raw connection completes TLS.
	qc, err := quic.DialAddr(testCtx(t), ln.Addr().String(), client, nil) // SelfSigned configs carry the ALPN
	require.NoError(t, err)
	require.NoError(t, qc.CloseWithError(0, ""))

	require.NoError(t, ln.Close())
	require.NoError(t, qt.Close())
	require.NoError(t, udp.Close())
	assert.Empty(t, stdlog.String(), "something was printed through the standard logger")
	t.Logf("diagnostics sent to the Transport's logger: %q", ours.String())
}
