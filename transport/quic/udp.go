package quic

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
)

// errSizingBuffers is what udpConn.SyscallConn returns while quic-go sizes
// the socket buffers; see udpConn.
var errSizingBuffers = errors.New("brook: quic: socket buffers are sized by brook")

// udpConn is the UDP socket handed to a quic.Transport. It exists to keep
// quic-go (v0.65) from printing its "failed to sufficiently increase
// receive buffer size" warning on stderr through the standard log package:
// the only switch quic-go offers is the process-wide environment variable
// QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING, which a library must not set.
//
// When quic-go takes a socket it first sizes the buffers: it calls
// SyscallConn to inspect them, and when that fails it simply calls
// SetReadBuffer and then SetWriteBuffer and reports their error. udpConn
// fails SyscallConn until both have been called, does the sizing itself in
// them and reports a shortfall to the Transport's logger, then behaves as
// the *net.UDPConn it embeds (SyscallConn included, so ECN, GSO, DF and
// batched reads stay on). TestBufferWarningSuppressed checks quic-go still
// works this way.
type udpConn struct {
	*net.UDPConn
	log *slog.Logger

	mu               sync.Mutex
	sizedRead, sized bool
}

func newUDPConn(c *net.UDPConn, log *slog.Logger) *udpConn {
	return &udpConn{UDPConn: c, log: log}
}

// SyscallConn returns the raw connection once the buffers are sized.
func (c *udpConn) SyscallConn() (syscall.RawConn, error) {
	c.mu.Lock()
	sized := c.sized
	c.mu.Unlock()
	if !sized {
		return nil, errSizingBuffers
	}
	return c.UDPConn.SyscallConn()
}

// SetReadBuffer asks the kernel for a receive buffer of n bytes; a
// shortfall is logged, never printed, and not returned.
func (c *udpConn) SetReadBuffer(n int) error {
	c.grow(syscall.SO_RCVBUF, "receive", n)
	c.mu.Lock()
	c.sizedRead = true
	c.mu.Unlock()
	return nil
}

// SetWriteBuffer asks the kernel for a send buffer of n bytes, like
// SetReadBuffer. It is the last step of quic-go's sizing.
func (c *udpConn) SetWriteBuffer(n int) error {
	c.grow(syscall.SO_SNDBUF, "send", n)
	c.mu.Lock()
	c.sized = c.sizedRead
	c.mu.Unlock()
	return nil
}

func (c *udpConn) grow(opt int, name string, want int) {
	got, err := growBuffer(c.UDPConn, opt, want)
	if err != nil || got < want {
		c.log.Debug("brook: quic: UDP "+name+" buffer smaller than quic-go wants; see https://github.com/quic-go/quic-go/wiki/UDP-Buffer-Sizes",
			"want", want, "got", got, "err", err)
	}
}
