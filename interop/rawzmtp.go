package interop

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// This file is a deliberately small ZMTP 3.1 encoder and decoder for raw
// peers that misbehave on purpose. It is written from RFC 23/37, apart
// from transport/zmtp, so the tests do not check brook against itself.

// ZMTP frame flag bits.
const (
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
)

// zmtpGreeting returns a 64-byte greeting for version major.minor and
// mechanism, with non-zero padding as libzmq writes it.
func zmtpGreeting(major, minor byte, mechanism string) []byte {
	g := make([]byte, 64)
	g[0] = 0xFF
	copy(g[1:9], []byte{0, 0, 0, 0, 0, 0, 0, 1})
	g[9] = 0x7F
	g[10], g[11] = major, minor
	copy(g[12:32], mechanism)
	return g
}

// zmtpFrame encodes one frame, in the short form up to 255 bytes and the
// long form above, as libzmq does.
func zmtpFrame(flags byte, body []byte) []byte {
	if len(body) <= 255 {
		return append([]byte{flags, byte(len(body))}, body...)
	}
	b := make([]byte, 9, 9+len(body))
	b[0] = flags | flagLong
	binary.BigEndian.PutUint64(b[1:], uint64(len(body)))
	return append(b, body...)
}

// zmtpLongHeader encodes only the header of a long frame announcing size
// bytes, for peers that lie about what follows.
func zmtpLongHeader(flags byte, size uint64) []byte {
	b := make([]byte, 9)
	b[0] = flags | flagLong
	binary.BigEndian.PutUint64(b[1:], size)
	return b
}

// zmtpCommand encodes a command frame.
func zmtpCommand(name string, data []byte) []byte {
	body := append([]byte{byte(len(name))}, name...)
	return zmtpFrame(flagCommand, append(body, data...))
}

// zmtpReady encodes a READY command with properties given as name,
// value pairs.
func zmtpReady(props ...string) []byte {
	var data []byte
	for i := 0; i+1 < len(props); i += 2 {
		data = append(data, byte(len(props[i])))
		data = append(data, props[i]...)
		data = binary.BigEndian.AppendUint32(data, uint32(len(props[i+1])))
		data = append(data, props[i+1]...)
	}
	return zmtpCommand("READY", data)
}

// rawFrame is one decoded frame.
type rawFrame struct {
	flags byte
	body  []byte
}

func (f rawFrame) isCommand() bool { return f.flags&flagCommand != 0 }

// command returns the command name of a command frame.
func (f rawFrame) command() string {
	if !f.isCommand() || len(f.body) == 0 || int(f.body[0]) >= len(f.body) {
		return ""
	}
	return string(f.body[1 : 1+f.body[0]])
}

// rawPeer is a hand-driven ZMTP peer on a plain net.Conn.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// dialRaw connects a raw peer to a tcp:// or ipc:// endpoint; the
// connection is closed when the test ends.
func dialRaw(t testing.TB, endpoint string) *rawPeer {
	t.Helper()
	network, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		t.Fatalf("bad endpoint %q", endpoint)
	}
	if network == "ipc" {
		network = "unix"
	}
	c, err := net.DialTimeout(network, addr, testTimeout)
	if err != nil {
		t.Fatalf("raw peer: dial %s: %v", endpoint, err)
	}
	return newRawPeer(t, c)
}

func newRawPeer(t testing.TB, c net.Conn) *rawPeer {
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, r: bufio.NewReader(c)}
}

// local is the raw peer's own address as brook reports it in events
// (Event.Remote ends with it).
func (p *rawPeer) local() string { return p.conn.LocalAddr().String() }

// write sends the concatenation of parts.
func (p *rawPeer) write(parts ...[]byte) {
	p.t.Helper()
	var b []byte
	for _, part := range parts {
		b = append(b, part...)
	}
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("raw peer: write: %v", err)
	}
}

// readGreeting reads the peer's 64-byte greeting and checks its signature.
func (p *rawPeer) readGreeting() []byte {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	g := make([]byte, 64)
	if _, err := io.ReadFull(p.r, g); err != nil {
		p.t.Fatalf("raw peer: reading greeting: %v", err)
	}
	if g[0] != 0xFF || g[9] != 0x7F {
		p.t.Fatalf("raw peer: not a ZMTP greeting: % x", g[:10])
	}
	return g
}

// readFrame reads one frame (bodies up to 1 MiB, which is all these tests
// expect from brook).
func (p *rawPeer) readFrame() (rawFrame, error) {
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	flags, err := p.r.ReadByte()
	if err != nil {
		return rawFrame{}, err
	}
	var size uint64
	if flags&flagLong != 0 {
		var b [8]byte
		if _, err := io.ReadFull(p.r, b[:]); err != nil {
			return rawFrame{}, err
		}
		size = binary.BigEndian.Uint64(b[:])
	} else {
		n, err := p.r.ReadByte()
		if err != nil {
			return rawFrame{}, err
		}
		size = uint64(n)
	}
	if size > 1<<20 {
		return rawFrame{}, fmt.Errorf("raw peer: %d-byte frame", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(p.r, body); err != nil {
		return rawFrame{}, err
	}
	return rawFrame{flags: flags, body: body}, nil
}

// handshake completes a NULL handshake announcing sockType, and checks
// that the peer answers with a greeting and a READY.
func (p *rawPeer) handshake(sockType string) {
	p.t.Helper()
	p.write(zmtpGreeting(3, 1, "NULL"), zmtpReady("Socket-Type", sockType))
	p.readGreeting()
	f, err := p.readFrame()
	if err != nil {
		p.t.Fatalf("raw peer: reading READY: %v", err)
	}
	if f.command() != "READY" {
		p.t.Fatalf("raw peer: got %q instead of READY", f.command())
	}
}

// awaitCommand reads frames until a command named name arrives, and
// fails the test if the connection ends first.
func (p *rawPeer) awaitCommand(name string) rawFrame {
	p.t.Helper()
	for {
		f, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("raw peer: connection ended before a %s command: %v", name, err)
		}
		if f.command() == name {
			return f
		}
	}
}

// awaitClosed reads until brook closes the connection, and fails the
// test if it does not within testTimeout.
func (p *rawPeer) awaitClosed() {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	_, err := io.Copy(io.Discard, p.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		p.t.Fatalf("raw peer: brook kept the connection open for %v", testTimeout)
	}
}
