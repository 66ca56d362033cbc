//go:build !linux

package quic

import (
	"net"
	"syscall"
)

// growBuffer asks for a socket buffer of want bytes and, where the size
// cannot be read back, reports that it got it.
func growBuffer(c *net.UDPConn, opt int, want int) (int, error) {
	if opt == syscall.SO_SNDBUF {
		return want, c.SetWriteBuffer(want)
	}
	return want, c.SetReadBuffer(want)
}
