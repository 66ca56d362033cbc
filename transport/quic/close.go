package quic

import (
	"errors"
	"io"
	"os"
	"time"
)

// Close ends the connection and returns at once. After a completed
// handshake it is graceful, as TCP's close is: it ends the data stream
// after what was already flushed, and in the background (owned by the
// Transport, whose Close waits for it) keeps the connection up until the
// peer has read to the end and closed it (code 0), or until the linger runs
// out (code 5). A write cut short by Close, or a linger of 0, closes with
// code 5 at once; so does a Close before the handshake completed. Close
// unblocks ReadMsg and WriteMsg. It is safe to call more than once.
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
	shaken, zc := c.shaken, c.zc
	c.handshakeMu.Unlock()
	if zc != nil {
		_ = zc.Close() // unblocks the engine's readers and writers
	}
	if shaken {
		if release, ok := c.endDataStream(); ok {
			c.background.Add(1)
			go func() {
				defer c.background.Done()
				c.linger()
				release()
				c.teardown()
			}()
			return
		}
	}
	c.teardown()
}

// teardown stops the Conn's goroutines once the connection is closed and
// gives back its UDP socket.
func (c *Conn) teardown() {
	if c.lv != nil {
		c.lv.close()
	}
	c.watchers.Wait()
	c.release()
	c.forget()
}

// endDataStream ends our side of the data stream if the close can be
// graceful, and reports whether the peer still has to be waited for; the
// caller then owns the stream until it calls release. Otherwise it has
// closed the connection.
func (c *Conn) endDataStream() (release func(), wait bool) {
	if c.qc.Context().Err() != nil {
		return nil, false // already over
	}
	release = c.ds.takeOver()
	switch {
	case c.ds.writeFailed.Load():
		c.abort(CodeAbort, "closed with a message partly sent")
	case c.opts.linger == 0:
		c.abort(CodeAbort, "linger 0")
	case !c.ds.writeEnded.Load() && c.data.Close() != nil:
		c.abort(CodeAbort, "cannot end the data stream")
	case c.ds.readEOF.Load():
		// The peer ended its side first: it wants nothing more from us.
		c.abort(CodeCompleted, "")
	default:
		return release, true
	}
	release()
	return nil, false
}

// linger drains the peer's data until it ends its side of the data stream
// or closes the connection, which a peer does once it has read ours to the
// end, or until the linger runs out.
func (c *Conn) linger() {
	_ = c.data.SetReadDeadline(time.Now().Add(c.opts.linger))
	buf := make([]byte, 4096)
	for {
		_, err := c.data.Read(buf)
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, io.EOF):
			c.abort(CodeCompleted, "")
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.abort(CodeAbort, "incomplete linger")
		case !isQUICError(err):
			c.abort(CodeAbort, "data stream failed while closing")
		}
		return
	}
}
