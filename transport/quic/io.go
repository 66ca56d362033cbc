package quic

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// ReadMsg returns the next whole message from the data stream. When the
// connection ends, the error says why (a *CloseError for a close code).
func (c *Conn) ReadMsg() (transport.Msg, error) {
	zc, err := c.ready()
	if err != nil {
		return transport.Msg{}, err
	}
	m, err := zc.ReadMsg()
	if err != nil {
		return transport.Msg{}, c.ioError(err)
	}
	c.readerMsgs.Add(1)
	return m, nil
}

// ReadMsgs appends to dst the next whole message, waiting for it as
// ReadMsg does, then the messages that have already arrived whole, up to
// max in all, without waiting for more (see zmtp.Conn.ReadMsgs): the
// socket layer hands them to its pattern as one batch. An error comes with
// no message; a failure after the first message is reported by the next
// call.
func (c *Conn) ReadMsgs(dst []transport.Msg, max int) ([]transport.Msg, error) {
	zc, err := c.ready()
	if err != nil {
		return dst, err
	}
	n := len(dst)
	dst, err = zc.ReadMsgs(dst, max)
	c.readerMsgs.Add(uint64(len(dst) - n))
	if err != nil {
		return dst, c.ioError(err)
	}
	return dst, nil
}

// WriteMsg queues m on the data stream.
func (c *Conn) WriteMsg(m transport.Msg) error {
	zc, err := c.ready()
	if err != nil {
		return err
	}
	if err := zc.WriteMsg(m); err != nil {
		return c.ioError(err)
	}
	return nil
}

// WriteSubscription queues a subscription or its cancellation.
func (c *Conn) WriteSubscription(topic []byte, subscribe bool) error {
	zc, err := c.ready()
	if err != nil {
		return err
	}
	if err := zc.WriteSubscription(topic, subscribe); err != nil {
		return c.ioError(err)
	}
	return nil
}

// WriteCommand queues a command on the data stream (see transport.Conn).
func (c *Conn) WriteCommand(name string, data []byte) error {
	if err := transport.CheckCommand(name, data); err != nil {
		return err
	}
	zc, err := c.ready()
	if err != nil {
		return err
	}
	if err := zc.WriteCommand(name, data); err != nil {
		return c.ioError(err)
	}
	return nil
}

// SetCommandHandler installs h for the peer's commands (see
// transport.Conn); call it after Handshake, before the first ReadMsg.
func (c *Conn) SetCommandHandler(h transport.CommandHandler) {
	if zc := c.engine.Load(); zc != nil {
		zc.SetCommandHandler(h)
	}
}

// SetBatchedCommands implements transport.CommandBatcher for the engine:
// ReadMsgs reads on past the commands batched names. Call it after
// Handshake.
func (c *Conn) SetBatchedCommands(batched func(name []byte) bool) {
	if zc := c.engine.Load(); zc != nil {
		zc.SetBatchedCommands(batched)
	}
}

// MsgsRead implements transport.CommandBatcher: the messages ReadMsgs has
// read (0 before the handshake).
func (c *Conn) MsgsRead() uint64 {
	if zc := c.engine.Load(); zc != nil {
		return zc.MsgsRead()
	}
	return 0
}

var _ transport.CommandBatcher = (*Conn)(nil)

// Written implements transport.WriteCounter for the data stream: how many
// WriteMsg, WriteSubscription and WriteCommand calls have had all their
// bytes handed to QUIC (0 before the handshake). After a failed write the
// socket's writer sends again only the messages QUIC did not take whole,
// so a message QUIC took is not sent twice (ZeroMQ's at most once), as
// over tcp.
func (c *Conn) Written() uint64 {
	if zc := c.engine.Load(); zc != nil {
		return zc.Written()
	}
	return 0
}

var _ transport.WriteCounter = (*Conn)(nil)

// CloseWrite flushes and ends our side of the data stream (a QUIC FIN):
// the peer reads everything sent, then the end of the stream. ReadMsg
// goes on until the peer ends the connection.
func (c *Conn) CloseWrite() error {
	zc, err := c.ready()
	if err != nil {
		return err
	}
	if err := zc.CloseWrite(); err != nil {
		return c.ioError(err)
	}
	return nil
}

// Flush sends everything queued.
func (c *Conn) Flush() error {
	zc, err := c.ready()
	if err != nil {
		return err
	}
	if err := zc.Flush(); err != nil {
		return c.ioError(err)
	}
	return nil
}

// TryFlush sends what is queued if QUIC's flow control lets it go at
// once, without waiting, and reports whether it did; else it leaves it
// for Flush. A socket uses it to write a message from the sending
// goroutine when the connection's writer is idle (inline writes).
func (c *Conn) TryFlush() (bool, error) {
	zc, err := c.ready()
	if err != nil {
		return false, err
	}
	done, err := zc.TryFlush()
	if err != nil {
		return false, c.ioError(err)
	}
	return done, nil
}

// ready returns the ZMTP engine, or an error if the handshake has not
// succeeded.
func (c *Conn) ready() (*zmtp.Conn, error) {
	if zc := c.engine.Load(); zc != nil {
		return zc, nil
	}
	select {
	case <-c.closing:
		return nil, fmt.Errorf("%w: quic connection to %s", transport.ErrClosed, c.RemoteAddr())
	default:
	}
	return nil, errNotReady
}

// errNotReady is returned by I/O on a Conn whose handshake has not
// succeeded.
var errNotReady = errors.New("brook: quic connection used before its handshake completed")

// ioError explains a data stream failure: after Close it is the engine's
// closed error; after a local abort (liveness, unexpected stream) that
// abort; after the peer or the network ended the connection, why.
func (c *Conn) ioError(err error) error {
	select {
	case <-c.closing:
		return err
	default:
	}
	if c.ds != nil && c.ds.writeEnded.Load() && errors.Is(err, transport.ErrClosed) {
		// A write after CloseWrite: refused, the connection goes on.
		return err
	}
	if a := c.abortError(); a != nil {
		return a
	}
	if isQUICError(err) {
		return connError(err)
	}
	if c.qc.Context().Err() != nil {
		return connError(context.Cause(c.qc.Context()))
	}
	if !errors.Is(err, io.EOF) {
		// The engine gave up on the stream (protocol error, message too
		// large): the connection cannot continue.
		c.abort(CodeAbort, "data stream failed")
	}
	return err
}

// connectionEnded reports whether err says the whole QUIC connection ended
// (closed by either side, timed out, reset), rather than one stream.
func connectionEnded(err error) bool {
	var (
		appErr   *quic.ApplicationError
		idle     *quic.IdleTimeoutError
		transErr *quic.TransportError
		reset    *quic.StatelessResetError
	)
	return errors.As(err, &appErr) || errors.As(err, &idle) || errors.As(err, &transErr) || errors.As(err, &reset)
}

// isQUICError reports whether err comes from the QUIC connection's end
// rather than from the byte stream's content.
func isQUICError(err error) bool {
	var streamErr *quic.StreamError
	return connectionEnded(err) || errors.As(err, &streamErr)
}
