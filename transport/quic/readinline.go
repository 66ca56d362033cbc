package quic

import "github.com/brookmq/brook/transport"

// Inline reading: a REQ or REP socket whose application waits for the next
// message reads the connection from the waiting goroutine rather than
// from its reader goroutine, one goroutine hand-off less per message (see
// the zmtp engine's readinline.go, whose methods these pass through). The
// engine cuts such a read short with a read deadline in the past on the
// data stream (dataStream.SetReadDeadline); the liveness stream is polled
// from the connection's timer, so it goes on whoever reads stream 0.

// InlineReadable reports whether the socket may read the connection with
// FillBuffer and ReadBuffered: once the handshake has succeeded.
func (c *Conn) InlineReadable() bool {
	zc := c.engine.Load()
	return zc != nil && zc.InlineReadable()
}

// ReadPending reports whether bytes read from the data stream wait in the
// engine's read buffer, not parsed yet. Only the goroutine holding the
// reader role may call it.
func (c *Conn) ReadPending() bool {
	zc := c.engine.Load()
	return zc != nil && zc.ReadPending()
}

// ReadBuffered appends to dst at most max messages that have arrived whole
// in the read buffer, without reading the stream. An error is final, and
// says why as ReadMsg's does.
func (c *Conn) ReadBuffered(dst []transport.Msg, max int) ([]transport.Msg, error) {
	zc, err := c.ready()
	if err != nil {
		return dst, err
	}
	n := len(dst)
	dst, err = zc.ReadBuffered(dst, max)
	c.inlineMsgs.Add(uint64(len(dst) - n))
	if err != nil {
		return dst, c.ioError(err)
	}
	return dst, nil
}

// FillBuffer reads the data stream once into the read buffer, waiting for
// something to arrive, and parses nothing. It reports false when
// InterruptRead cut it short or the buffer is full (the connection is as
// it was); an error is final, and says why as ReadMsg's does.
func (c *Conn) FillBuffer() (bool, error) {
	zc, err := c.ready()
	if err != nil {
		return false, err
	}
	ok, err := zc.FillBuffer()
	if err != nil {
		return false, c.ioError(err)
	}
	return ok, nil
}

// InterruptRead makes a FillBuffer in progress return, and every later one
// until ResumeRead, without reading. Any goroutine may call it.
func (c *Conn) InterruptRead() {
	if zc := c.engine.Load(); zc != nil {
		zc.InterruptRead()
	}
}

// ResumeRead undoes InterruptRead.
func (c *Conn) ResumeRead() {
	if zc := c.engine.Load(); zc != nil {
		zc.ResumeRead()
	}
}
