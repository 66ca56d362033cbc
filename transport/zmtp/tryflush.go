package zmtp

// TryFlush writes what is buffered, with the PING or PONG due, without
// waiting for the stream to take it, and reports whether everything went
// out. What the stream did not take stays buffered for the next Flush or
// TryFlush, so a sending goroutine can write a message itself when the
// connection's writer is idle and leave the rest to it if the peer is
// slow. A stream that is neither a socket nor a tryWriter (a QUIC stream)
// takes nothing here: TryFlush then reports false and leaves it all to
// Flush, as does a connection whose mechanism boxes its traffic (CURVE).
func (c *Conn) TryFlush() (bool, error) {
	c.wmu.Lock()
	defer c.unlockW()
	switch {
	case c.dead.Load():
		return false, c.failure()
	case c.werr != nil:
		return false, c.werr
	case c.wclosed:
		return true, nil
	case c.seal != nil:
		return false, nil // boxed traffic is written by Flush alone
	}
	if c.ctl.Load() != 0 && c.reserve(maxControl) == nil {
		c.wn = len(c.appendControl(c.wbuf[:c.wn]))
	}
	if c.wn == 0 {
		c.idleWrite()
		return true, nil
	}
	var n int
	var err error
	if tw, ok := c.rw.(tryWriter); ok {
		n, err = tw.TryWrite(c.wbuf[:c.wn])
	} else {
		n, err = c.writeNow(c.wbuf[:c.wn])
	}
	if err != nil {
		c.advance(int64(n))
		return false, c.wrote(err)
	}
	if n < 0 {
		return false, nil // not a socket
	}
	c.advance(int64(n))
	c.wn = copy(c.wbuf, c.wbuf[n:c.wn])
	if c.wn > 0 {
		c.wmid = true // the stream may end inside a frame
		return false, nil
	}
	c.wmid = c.wopen
	c.idleWrite()
	return true, nil
}

// tryWriter is a stream that is not a socket but can take bytes without
// waiting (quic's data stream): TryWrite takes what it can of b at once,
// possibly nothing, and returns how much that was.
type tryWriter interface {
	TryWrite(b []byte) (int, error)
}

// rawWrite is one non-blocking write for syscall.RawConn.Write: its
// arguments and results live in the Conn (wmu held), so the callback is a
// method value made once rather than a closure allocated per write.
type rawWrite struct {
	b   []byte
	n   int
	err error
}
