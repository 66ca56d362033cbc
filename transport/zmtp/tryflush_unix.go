//go:build unix

package zmtp

import (
	"errors"
	"syscall"
)

// writeNow writes as much of b as the socket takes at once, without
// waiting, and returns how much that was; -1 when the stream is not a
// socket. wmu must be held.
func (c *Conn) writeNow(b []byte) (int, error) {
	if c.raw == nil {
		if c.rawNone {
			return -1, nil
		}
		sc, ok := c.rw.(syscall.Conn)
		if !ok {
			c.rawNone = true
			return -1, nil
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			c.rawNone = true
			return -1, nil
		}
		c.raw = raw
	}
	var n int
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if !errors.Is(werr, syscall.EINTR) {
				return true // done, whatever happened: never wait here
			}
		}
	})
	if err == nil {
		err = werr
	}
	if errors.Is(err, syscall.EAGAIN) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
