package quic

import (
	"net"
	"syscall"
)

// growBuffer makes a socket buffer (SO_RCVBUF or SO_SNDBUF) at least want
// bytes if the kernel lets it, trying the privileged *BUFFORCE variant when
// the limit (net.core.rmem_max / wmem_max) is lower, and returns the size
// obtained. Linux reports twice the size asked for, its bookkeeping
// included, so the result is compared with that.
func growBuffer(c *net.UDPConn, opt int, want int) (got int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	force := syscall.SO_RCVBUFFORCE
	if opt == syscall.SO_SNDBUF {
		force = syscall.SO_SNDBUFFORCE
	}
	cerr := raw.Control(func(fd uintptr) {
		got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt)
		if err != nil || got >= want {
			return
		}
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, want)
		if got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt); err != nil || got >= want {
			return
		}
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, force, want)
		got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt)
	})
	if cerr != nil {
		return 0, cerr
	}
	return got, err
}
