package quic

// Close ends the connection at once; it never waits for the peer. The
// close code says whether the exchange was complete: 0 (completed) when
// CloseWrite ended our side of the data stream and we had read the end of
// the peer's side (both said all they had to say), 5 (local abort)
// otherwise, since whatever the data stream still held unsent or
// unacknowledged is discarded. A Close before the handshake completed is
// code 5 too, and a connection that already ended keeps the code it ended
// with.
//
// Lingering (waiting for the peer to read to the end) is the socket's
// job: it flushes, calls CloseWrite, reads until the peer hangs up or its
// linger time ends, and then calls Close.
//
// Close unblocks ReadMsg and WriteMsg and waits for the Conn's goroutines.
// It is safe to call more than once.
func (c *Conn) Close() error {
	c.closeOnce.Do(c.shutdown)
	return nil
}

func (c *Conn) shutdown() {
	close(c.closing)
	if !c.setupDone.Load() {
		// Cuts short a Handshake in progress.
		c.abort(CodeAbort, "closed during setup")
	}
	c.handshakeMu.Lock() // a running Handshake has now returned
	zc := c.zc
	c.handshakeMu.Unlock()
	if zc != nil {
		_ = zc.Close() // unblocks the engine's readers and writers
	}
	switch {
	case c.qc.Context().Err() != nil:
		// Already over: it keeps the code it ended with.
	case c.completed():
		c.abort(CodeCompleted, "")
	default:
		c.abort(CodeAbort, "closed with data possibly unsent")
	}
	c.tick.stop()
	if c.lv != nil {
		c.lv.close()
	}
	c.release()
	c.forget()
}

// completed reports whether both sides ended the data stream after
// everything they wrote: we with CloseWrite, with no write cut short, and
// the peer with its own end of stream, which we read.
func (c *Conn) completed() bool {
	return c.ds != nil && c.ds.writeEnded.Load() && !c.ds.writeFailed.Load() && c.ds.readEOF.Load()
}
