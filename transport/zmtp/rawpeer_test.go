package zmtp

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawPeer is a hand-driven ZMTP peer for tests: it writes exactly the bytes
// a test wants and decodes what the Conn under test sends.
type rawPeer struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

// newRawPeer connects a Conn under test to a raw peer over loopback TCP
// (buffered, so the raw side's writes never wait for the Conn to read).
func newRawPeer(t testing.TB, opts Options) (*Conn, *rawPeer) {
	t.Helper()
	a, b := tcpPair(t)
	c := NewConn(a, "local", "raw", opts)
	t.Cleanup(func() { _ = c.Close() })
	return c, &rawPeer{t: t, c: b, r: bufio.NewReader(b)}
}

func (p *rawPeer) send(chunks ...[]byte) {
	p.t.Helper()
	for _, b := range chunks {
		_, err := p.c.Write(b)
		require.NoError(p.t, err)
	}
}

// readN reads exactly n bytes, failing the test after 10 s.
func (p *rawPeer) readN(n int) []byte {
	p.t.Helper()
	require.NoError(p.t, p.c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b := make([]byte, n)
	_, err := io.ReadFull(p.r, b)
	require.NoError(p.t, err)
	return b
}

// readFrame reads one frame.
func (p *rawPeer) readFrame() (flags byte, body []byte) {
	p.t.Helper()
	h := p.readN(2)
	flags = h[0]
	size := uint64(h[1])
	if flags&flagLong != 0 {
		size = binary.BigEndian.Uint64(append(h[1:2:2], p.readN(7)...))
	}
	return flags, p.readN(int(size))
}

// readCommand reads frames until a command and returns its name and data.
func (p *rawPeer) readCommand() (string, []byte) {
	p.t.Helper()
	for {
		flags, body := p.readFrame()
		if flags&flagCommand == 0 {
			continue
		}
		name, data, err := parseCommand(body)
		require.NoError(p.t, err)
		return name, data
	}
}

// handshake plays a NULL handshake: our greeting with the given minor
// version, READY with socketType, then reads the Conn's greeting and READY.
func (p *rawPeer) handshake(minor byte, socketType string) (greeting []byte, ready map[string][]byte) {
	p.t.Helper()
	p.send(rawGreeting(3, minor, "NULL"), rawReady(socketType))
	greeting = p.readN(greetingSize)
	name, data := p.readCommand()
	require.Equal(p.t, cmdReady, name)
	props, err := parseMetadata(data)
	require.NoError(p.t, err)
	return greeting, props
}

// rawGreeting builds a greeting with libzmq-like non-zero padding.
func rawGreeting(major, minor byte, mechanism string) []byte {
	g := appendGreeting(nil, mechanism, false)
	copy(g[1:9], []byte{0, 0, 0, 0, 0, 0, 0, 1})
	g[majorOffset], g[minorOffset] = major, minor
	return g
}

// rawReady builds a READY command frame with Socket-Type and extra
// name/value pairs.
func rawReady(socketType string, kv ...string) []byte {
	props := []property{{"Socket-Type", []byte(socketType)}}
	for i := 0; i+1 < len(kv); i += 2 {
		props = append(props, property{kv[i], []byte(kv[i+1])})
	}
	return appendCommand(nil, cmdReady, appendMetadata(nil, props))
}

// rawLongFrame builds a frame in the long form whatever its size.
func rawLongFrame(flags byte, body []byte) []byte {
	b := binary.BigEndian.AppendUint64([]byte{flags | flagLong}, uint64(len(body)))
	return append(b, body...)
}

// rawFrame builds a frame in the form libzmq would use.
func rawFrame(flags byte, body []byte) []byte {
	return append(appendFrameHeader(nil, flags, len(body)), body...)
}
