package quic

import (
	"context"
	"fmt"
	"log/slog"
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

	closing   chan struct{} // closed when Close starts
	closeOnce sync.Once
	abortMu   sync.Mutex
	aborted   error // the CloseError of a local abort, first one wins
	tick      ticker
	// handshakeMu is held by Handshake so Close can wait for it to notice
	// that the connection went away.
	handshakeMu sync.Mutex
	shaken      bool
	begun       atomic.Bool
	setupDone   atomic.Bool
	// streamsAccepted is set on the listener once streams 0 and 4 are in:
	// any stream after them is unexpected.
	streamsAccepted atomic.Bool
	// The messages read by each way of reading: ReadBuffered (the socket
	// layer's inline receive, from the goroutine in Recv) and ReadMsgs or
	// ReadMsg (the connection's reader goroutine). Tests and benchmarks
	// look at them to tell whether a socket reads inline; they cost an
	// atomic add per batch read.
	inlineMsgs, readerMsgs atomic.Uint64
}

var _ transport.Conn = (*Conn)(nil)

// newConn wraps a QUIC connection whose TLS handshake is complete and
// starts its ticker.
func newConn(qc *quic.Conn, opts *options, connector bool, deadline time.Time, release func()) *Conn {
	c := &Conn{
		qc:        qc,
		opts:      opts,
		log:       opts.logger,
		connector: connector,
		deadline:  deadline,
		release:   release,
		forget:    func() {},
		closing:   make(chan struct{}),
	}
	c.tick.start(c, opts.livenessInterval)
	return c
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

// checkStreams drops the connection with code 4 when the peer has opened a
// stream beyond the profile's: on the connector any stream at all, on the
// listener any after streams 0 and 4 (call it once those are accepted).
// It does not wait: the ticker calls it every liveness interval, so an
// unexpected stream is noticed within one interval, without a goroutine
// per connection blocked in AcceptStream.
func (c *Conn) checkStreams() {
	if !c.connector && !c.streamsAccepted.Load() {
		return
	}
	if s, err := c.qc.AcceptStream(c.tick.now); err == nil {
		c.abort(CodeUnexpectedStream, fmt.Sprintf("unexpected stream %d", s.StreamID()))
		return
	}
	if s, err := c.qc.AcceptUniStream(c.tick.now); err == nil {
		c.abort(CodeUnexpectedStream, fmt.Sprintf("unexpected unidirectional stream %d", s.StreamID()))
	}
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
