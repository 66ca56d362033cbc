//go:build unix

package zmtp

import "syscall"

// inputWaiting reports whether the stream's socket has bytes (or its end)
// waiting in the kernel that the reader has not taken yet: the peer sent
// them, even if our reader has not run since (a loaded machine, a stopped
// or descheduled process). It peeks without consuming and never blocks;
// false when the stream is not a socket.
func (c *Conn) inputWaiting() bool {
	sc, ok := c.rw.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	waiting := false
	_ = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		waiting = err == nil && n >= 0
	})
	return waiting
}
