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
	if c.rawFn == nil {
		c.rawFn = c.rawOut.write // bound once: a closure per call would allocate
	}
	c.rawOut.b = b
	err := c.raw.Write(c.rawFn)
	n, werr := c.rawOut.n, c.rawOut.err
	c.rawOut = rawWrite{}
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

// write writes r.b once, retrying only on EINTR, and never asks to wait.
func (r *rawWrite) write(fd uintptr) bool {
	for {
		r.n, r.err = syscall.Write(int(fd), r.b)
		if !errors.Is(r.err, syscall.EINTR) {
			return true // done, whatever happened: never wait here
		}
	}
}
