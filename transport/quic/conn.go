package quic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// Stream IDs of the profile: the connector's first two bidirectional
// streams.
const (
	dataStreamID     quic.StreamID = 0
	livenessStreamID quic.StreamID = 4
)

// Conn is one QUIC connection to one peer carrying ZMTP on stream 0 and the
// liveness protocol on stream 4. It implements transport.Conn with the same
// concurrency rules: Handshake first, then one reader and one writer; Close
// from anywhere, any number of times.
type Conn struct {
	qc        *quic.Conn
	opts      *options
	log       *slog.Logger
	connector bool
	deadline  time.Time // end of the setup period
	release   func()    // gives back the UDP socket (or the listener's share of it)
	forget    func()    // removes the Conn from its Transport

	// Set up by Dial (connector) or Handshake (listener).
	data, live *quic.Stream
	ds         *dataStream
	zc         *zmtp.Conn                // set by Handshake, under handshakeMu
	engine     atomic.Pointer[zmtp.Conn] // zc once the handshake succeeded
	lv         *liveness

	closing    chan struct{}   // closed when Close starts
	background *sync.WaitGroup // the Transport's: counts lingering closes
	closeOnce  sync.Once
	abortMu    sync.Mutex
	aborted    error // the CloseError of a local abort, first one wins
	watchers   sync.WaitGroup
	// handshakeMu is held by Handshake so Close can wait for it to notice
	// that the connection went away.
	handshakeMu sync.Mutex
	shaken      bool
	begun       atomic.Bool
	setupDone   atomic.Bool
}

var _ transport.Conn = (*Conn)(nil)

func newConn(qc *quic.Conn, opts *options, background *sync.WaitGroup, connector bool, deadline time.Time, release func()) *Conn {
	return &Conn{
		background: background,
		qc:         qc,
		opts:       opts,
		log:        opts.logger,
		connector:  connector,
		deadline:   deadline,
		release:    release,
		forget:     func() {},
		closing:    make(chan struct{}),
	}
}

// LocalAddr is the local UDP address as an endpoint: "quic://ip:port".
func (c *Conn) LocalAddr() string { return "quic://" + c.qc.LocalAddr().String() }

// RemoteAddr is the peer's UDP address as an endpoint: "quic://ip:port".
func (c *Conn) RemoteAddr() string { return "quic://" + c.qc.RemoteAddr().String() }

// openStreams opens the connector's two streams.
func (c *Conn) openStreams() error {
	data, err := c.qc.OpenStream()
	if err != nil {
		return err
	}
	live, err := c.qc.OpenStream()
	if err != nil {
		return err
	}
	if data.StreamID() != dataStreamID || live.StreamID() != livenessStreamID {
		return fmt.Errorf("opened streams %d and %d, want 0 and 4", data.StreamID(), live.StreamID())
	}
	c.data, c.live = data, live
	return nil
}

// acceptStreams accepts the connector's two streams on the listener side.
func (c *Conn) acceptStreams(ctx context.Context) error {
	for i, want := range []quic.StreamID{dataStreamID, livenessStreamID} {
		s, err := c.qc.AcceptStream(ctx)
		if err != nil {
			return err
		}
		if s.StreamID() != want {
			return fmt.Errorf("stream %d opened where stream %d was expected", s.StreamID(), want)
		}
		if i == 0 {
			c.data = s
		} else {
			c.live = s
		}
	}
	return nil
}

// watchStreams drops the connection with code 4 when the peer opens any
// stream beyond the profile's: on the connector any stream at all, on the
// listener any after streams 0 and 4. Call it once those are accepted.
func (c *Conn) watchStreams() {
	ctx := c.qc.Context()
	c.watchers.Add(2)
	go func() {
		defer c.watchers.Done()
		if s, err := c.qc.AcceptStream(ctx); err == nil {
			c.abort(CodeUnexpectedStream, fmt.Sprintf("unexpected stream %d", s.StreamID()))
		}
	}()
	go func() {
		defer c.watchers.Done()
		if s, err := c.qc.AcceptUniStream(ctx); err == nil {
			c.abort(CodeUnexpectedStream, fmt.Sprintf("unexpected unidirectional stream %d", s.StreamID()))
		}
	}()
}

// abort closes the connection with code and reason, once; later calls keep
// the first reason.
func (c *Conn) abort(code CloseCode, reason string) {
	c.abortWith(&CloseError{Code: code, Reason: reason})
}

func (c *Conn) abortWith(e *CloseError) {
	c.abortMu.Lock()
	first := c.aborted == nil
	if first {
		c.aborted = e
	}
	c.abortMu.Unlock()
	if first {
		c.log.Debug("brook: quic: closing connection", "remote", c.RemoteAddr(), "code", uint64(e.Code), "reason", e.Reason)
		_ = c.qc.CloseWithError(quic.ApplicationErrorCode(e.Code), e.Reason)
	}
}

// abortError returns the reason of a local abort, or nil.
func (c *Conn) abortError() error {
	c.abortMu.Lock()
	defer c.abortMu.Unlock()
	if c.aborted == nil {
		return nil
	}
	return c.aborted
}

// Handshake completes the setup within the setup deadline (and ctx and
// cfg.HandshakeTimeout): on the listener it accepts streams 0 and 4; then
// both sides exchange liveness prefaces and run the ZMTP handshake on
// stream 0. Any failure closes the connection with code 1 (2 for a bad
// liveness preface). On success the liveness protocol starts.
func (c *Conn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if cfg == nil {
		return transport.PeerInfo{}, errors.New("brook: quic handshake needs a Config")
	}
	if c.begun.Swap(true) {
		return transport.PeerInfo{}, errors.New("brook: quic handshake already done")
	}
	info, err := c.handshake(ctx, cfg)
	if err != nil {
		// The connection is aborted; give its resources back now rather
		// than when the caller gets to Close.
		_ = c.Close()
		return transport.PeerInfo{}, err
	}
	return info, nil
}

func (c *Conn) handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	select {
	case <-c.closing:
		return transport.PeerInfo{}, fmt.Errorf("%w: quic connection to %s", transport.ErrClosed, c.RemoteAddr())
	default:
	}
	deadline := c.deadline
	if cfg.HandshakeTimeout > 0 {
		if d := time.Now().Add(cfg.HandshakeTimeout); d.Before(deadline) {
			deadline = d
		}
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	info, err := c.setup(hctx, cfg)
	if err != nil {
		return transport.PeerInfo{}, c.setupFailed(ctx, hctx, err)
	}
	c.shaken = true
	c.engine.Store(c.zc)
	c.setupDone.Store(true)
	return info, nil
}

// setupError carries the close code a setup step failed with.
type setupError struct {
	code CloseCode
	err  error
}

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

func (c *Conn) setup(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if !c.connector {
		if err := c.acceptStreams(ctx); err != nil {
			return transport.PeerInfo{}, &setupError{CodeInvalidSetup, fmt.Errorf("accepting streams: %w", err)}
		}
		c.watchStreams()
	}
	if err := c.exchangePrefaces(ctx); err != nil {
		return transport.PeerInfo{}, err
	}
	c.ds = newDataStream(c.data)
	c.zc = zmtp.NewConn(c.ds, c.LocalAddr(), c.RemoteAddr(), zmtp.Options{NoHeartbeat: true})
	info, err := c.zc.Handshake(ctx, cfg)
	if err != nil {
		return transport.PeerInfo{}, &setupError{CodeInvalidSetup, err}
	}
	interval, timeout := c.livenessTimers(cfg)
	c.lv = newLiveness(c.live, interval, timeout, c.abort)
	c.lv.start()
	return info, nil
}

// livenessTimers picks the PING interval and the silence after which the
// peer is dead: the socket's heartbeat settings if it has any, else the
// Transport's. The ZMTP timeout counts from a PING sent, and PINGs go out
// every interval, so the silence allowed is interval + timeout.
func (c *Conn) livenessTimers(cfg *transport.Config) (interval, timeout time.Duration) {
	if cfg.HeartbeatInterval <= 0 {
		return c.opts.livenessInterval, c.opts.livenessTimeout
	}
	interval = cfg.HeartbeatInterval
	timeout = cfg.HeartbeatTimeout
	if timeout <= 0 {
		timeout = interval
	}
	return interval, interval + timeout
}

// exchangePrefaces writes our liveness preface and reads the peer's.
func (c *Conn) exchangePrefaces(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	_ = c.live.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.live.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		_ = c.live.SetDeadline(time.Time{})
	}()
	p := preface()
	if _, err := c.live.Write(p[:]); err != nil {
		return &setupError{CodeInvalidSetup, fmt.Errorf("writing the liveness preface: %w", err)}
	}
	var got [prefaceLen]byte
	if _, err := io.ReadFull(c.live, got[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &setupError{CodeInvalidSetup, fmt.Errorf("reading the liveness preface: %w", err)}
		}
		return &setupError{CodeInvalidLiveness, fmt.Errorf("reading the liveness preface: %w", err)}
	}
	if err := checkPreface(got[:]); err != nil {
		return &setupError{CodeInvalidLiveness, err}
	}
	return nil
}

// setupFailed closes the connection after a failed setup and returns the
// error to report: the caller's ctx error if ctx ended, one matching
// transport.ErrHandshakeTimeout if the setup deadline or the handshake
// timeout passed, transport.ErrIncompatible for an incompatible peer.
func (c *Conn) setupFailed(ctx, hctx context.Context, err error) error {
	code := CodeInvalidSetup
	var se *setupError
	if errors.As(err, &se) {
		code = se.code
	}
	select {
	case <-c.closing:
		return fmt.Errorf("%w: quic setup with %s interrupted", transport.ErrClosed, c.RemoteAddr())
	default:
	}
	remote := c.RemoteAddr()
	switch {
	case ctx.Err() != nil:
		c.abortWith(&CloseError{Code: CodeInvalidSetup, Reason: "setup abandoned"})
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: quic setup with %s: %w", transport.ErrHandshakeTimeout, remote, ctx.Err())
		}
		return fmt.Errorf("brook: quic setup with %s: %w", remote, ctx.Err())
	case hctx.Err() != nil || errors.Is(err, transport.ErrHandshakeTimeout) || errors.Is(err, os.ErrDeadlineExceeded):
		c.abortWith(&CloseError{Code: CodeInvalidSetup, Reason: "setup timeout", setupTimeout: true})
		return fmt.Errorf("%w: quic setup with %s: %v", transport.ErrHandshakeTimeout, remote, err)
	case c.qc.Context().Err() != nil && c.abortError() == nil:
		// The peer (or the network) ended the connection: keep its reason.
		return fmt.Errorf("brook: quic setup with %s: %w", remote, connError(context.Cause(c.qc.Context())))
	}
	c.abortWith(&CloseError{Code: code, Reason: err.Error()})
	if errors.Is(err, transport.ErrIncompatible) || errors.Is(err, transport.ErrProtocol) {
		return fmt.Errorf("brook: quic setup with %s: %w", remote, err)
	}
	return fmt.Errorf("brook: quic setup with %s: %w", remote, &CloseError{Code: code, Reason: err.Error()})
}

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
	return m, nil
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
	case c.data.Close() != nil:
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
