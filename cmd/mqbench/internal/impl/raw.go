package impl

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
)

// rawImpl is the ceiling for any Go messaging library on the machine: one
// TCP or Unix connection, or one QUIC stream (rawquic.go), per socket pair
// carrying length-prefixed
// single-frame messages through bufio, flushed when the buffer fills or
// when the program is about to wait (Flusher, and before a Recv that
// would block). No patterns, no queues, no goroutines on the data path,
// and nothing is ever dropped (pubsub with one subscriber is a stream
// like pushpull).
type rawImpl struct {
	// tls makes the TLS configuration of quic:// sockets.
	tls quicTLS
}

func newRaw() rawImpl { return rawImpl{tls: newQUICTLS()} }

// rawBuffer is the bufio size on each side of a raw connection.
const rawBuffer = 64 << 10

// rawDialRetry is how often a raw socket retries a refused dial.
const rawDialRetry = 20 * time.Millisecond

// Name implements Impl.
func (rawImpl) Name() string { return config.ImplRaw }

// Version implements Impl.
func (rawImpl) Version() string {
	return "raw Go net.Conn or quic-go stream + bufio (64 KiB), 4-byte length prefix"
}

// Check implements Impl.
func (rawImpl) Check(cfg *config.Config) error {
	if err := noCurve("raw", cfg); err != nil {
		return err
	}
	switch cfg.Pattern {
	case config.PushPull, config.Pair, config.ReqRep:
	case config.PubSub:
		if cfg.Subscribers != 1 {
			return unsupported("raw", "--subscribers %d: raw is one connection (pubsub with one subscriber only)", cfg.Subscribers)
		}
	default:
		return unsupported("raw", "pattern %s: raw is one connection without routing (pushpull, pair, reqrep and one-subscriber pubsub)", cfg.Pattern)
	}
	if cfg.Drivers() != 1 {
		return unsupported("raw", "--clients %d: raw is one connection", cfg.Clients)
	}
	switch cfg.Transport {
	case "tcp", "ipc":
	case "quic":
		if cfg.Role != config.Both && cfg.QUIC.SelfSigned() {
			return unsupported("raw", "quic across two processes needs certificate files (--quic-cert, --quic-key, --quic-ca)")
		}
	default:
		return unsupported("raw", "transport %s (raw runs on tcp, ipc and quic)", cfg.Transport)
	}
	return nil
}

// Concurrent implements Impl.
func (rawImpl) Concurrent() bool { return true }

// KeepsFrames implements Impl.
func (rawImpl) KeepsFrames() bool { return false }

// NewSocket implements Impl.
func (r rawImpl) NewSocket(ctx context.Context, k Kind, o Options) (Socket, error) {
	s := &rawSocket{ctx: ctx, ready: make(chan struct{}), done: make(chan struct{}), linger: o.Linger}
	if o.Transport == "quic" {
		conf, err := r.tls.config(o.QUIC)
		if err != nil {
			return nil, fmt.Errorf("raw: %w", err)
		}
		s.tls = conf
	}
	return s, nil
}

// rawSocket is one end of one connection. Bind accepts a single peer.
type rawSocket struct {
	ctx   context.Context
	ready chan struct{} // closed once conn is set
	done  chan struct{} // closed by Close
	wg    sync.WaitGroup
	conn  net.Conn
	ln    net.Listener
	err   error // why conn never came (valid once ready is closed)

	tls    *tls.Config // quic only
	linger bool        // quic only: Close waits for the peer (Options.Linger)

	wmu sync.Mutex
	w   *bufio.Writer

	r      *bufio.Reader
	lenBuf [4]byte
	buf    []byte
	frames [][]byte

	// watched is the context whose end interrupts blocked I/O; gen
	// tells a late interruption of an older context to do nothing.
	watched context.Context
	stop    func() bool
	dmu     sync.Mutex
	gen     uint64
}

func rawAddr(endpoint string) (network, addr string, err error) {
	scheme, addr, _ := strings.Cut(endpoint, "://")
	switch scheme {
	case "tcp":
		return "tcp", addr, nil
	case "ipc":
		return "unix", addr, nil
	case "quic":
		return "quic", addr, nil
	}
	return "", "", fmt.Errorf("raw: endpoint %q: want tcp://, ipc:// or quic://", endpoint)
}

// Bind listens on endpoint and accepts exactly one connection in the
// background; it reports the port it got for tcp.
func (s *rawSocket) Bind(endpoint string) (string, error) {
	network, addr, err := rawAddr(endpoint)
	if err != nil {
		return "", err
	}
	if network == "unix" {
		// As libzmq does, take over a stale socket file.
		os.Remove(addr)
	}
	var ln net.Listener
	if network == "quic" {
		ln, err = listenRawQUIC(addr, s.tls, s.linger)
	} else {
		ln, err = net.Listen(network, addr)
	}
	if err != nil {
		return "", fmt.Errorf("raw: bind %s: %w", endpoint, err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c, err := ln.Accept()
		ln.Close()
		s.setConn(c, err)
	}()
	if network == "tcp" || network == "quic" {
		return network + "://" + ln.Addr().String(), nil
	}
	return endpoint, nil
}

// Connect dials endpoint in the background, retrying until it answers.
func (s *rawSocket) Connect(endpoint string) error {
	network, addr, err := rawAddr(endpoint)
	if err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var d net.Dialer
		dial := func() (net.Conn, error) { return d.DialContext(s.ctx, network, addr) }
		if network == "quic" {
			dial = func() (net.Conn, error) { return dialRawQUIC(s.ctx, addr, s.tls, s.linger) }
		}
		for {
			c, err := dial()
			if err == nil || s.ctx.Err() != nil {
				s.setConn(c, err)
				return
			}
			select {
			case <-time.After(rawDialRetry):
			case <-s.done:
				s.setConn(nil, net.ErrClosed)
				return
			}
		}
	}()
	return nil
}

// closeNow closes c without lingering.
func closeNow(c net.Conn) {
	if q, ok := c.(*quicStreamConn); ok {
		q.abort()
		return
	}
	c.Close()
}

func (s *rawSocket) setConn(c net.Conn, err error) {
	if err == nil {
		// The end of the socket's context interrupts any blocked call
		// (Recv also honours its own context, see watch).
		context.AfterFunc(s.ctx, func() { closeNow(c) })
		s.conn = c
		s.w = bufio.NewWriterSize(c, rawBuffer)
		s.r = bufio.NewReaderSize(c, rawBuffer)
	} else {
		s.err = fmt.Errorf("raw: no connection: %w", err)
	}
	close(s.ready)
}

// wait returns once the connection is up, and arranges for ctx's end to
// interrupt blocked reads and writes.
func (s *rawSocket) wait(ctx context.Context) error {
	select {
	case <-s.ready:
		// Connected: every message after the first takes this path,
		// which costs a fraction of the three-way select below (that
		// select was a fifth of raw's CPU time at 64 bytes).
		return s.err
	default:
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return net.ErrClosed
	}
	return s.err
}

// watch makes ctx's end interrupt the connection's blocked I/O; it only
// registers when ctx changes, so the hot path does not allocate. A new
// context clears what the previous one's end did.
func (s *rawSocket) watch(ctx context.Context) {
	if ctx == s.watched {
		return
	}
	if s.stop != nil {
		s.stop()
	}
	s.dmu.Lock()
	s.gen++
	gen := s.gen
	s.conn.SetReadDeadline(time.Time{})
	s.dmu.Unlock()
	s.watched = ctx
	s.stop = context.AfterFunc(ctx, func() {
		s.dmu.Lock()
		defer s.dmu.Unlock()
		if s.gen == gen {
			s.conn.SetReadDeadline(time.Unix(1, 0))
		}
	})
}

// Send buffers one length-prefixed frame; it reaches the connection
// when the buffer fills, on Flush, or before a Recv that would block.
func (s *rawSocket) Send(ctx context.Context, frames [][]byte) error {
	if len(frames) != 1 {
		return fmt.Errorf("raw: %d-frame message: raw carries single frames", len(frames))
	}
	if err := s.wait(ctx); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(frames[0])))
	if _, err := s.w.Write(hdr[:]); err != nil {
		return s.ioErr(ctx, err)
	}
	if _, err := s.w.Write(frames[0]); err != nil {
		return s.ioErr(ctx, err)
	}
	return nil
}

// Flush writes out buffered messages.
func (s *rawSocket) Flush() error {
	select {
	case <-s.ready:
	default:
		return nil
	}
	if s.err != nil {
		return s.err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("raw: flush: %w", err)
	}
	return nil
}

// Recv reads one frame (valid until the next Recv), flushing pending
// sends first when it would block.
func (s *rawSocket) Recv(ctx context.Context) ([][]byte, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	s.watch(ctx)
	if s.r.Buffered() == 0 {
		// About to block: what we wrote must go out first (it may be
		// what the peer answers).
		if err := s.Flush(); err != nil {
			return nil, s.ioErr(ctx, err)
		}
	}
	if _, err := io.ReadFull(s.r, s.lenBuf[:]); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	n := binary.BigEndian.Uint32(s.lenBuf[:])
	if n > config.MaxSize {
		return nil, fmt.Errorf("raw: frame of %d bytes exceeds %d", n, config.MaxSize)
	}
	if cap(s.buf) < int(n) {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	s.frames = append(s.frames[:0], s.buf)
	return s.frames, nil
}

// ioErr prefers the context's error when it caused the failure.
func (s *rawSocket) ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("raw: peer closed the connection: %w", err)
	}
	return fmt.Errorf("raw: %w", err)
}

// Close flushes, closes the connection and waits for the accepting or
// dialing goroutine.
func (s *rawSocket) Close() error {
	close(s.done)
	if s.ln != nil {
		s.ln.Close()
	}
	var err error
	select {
	case <-s.ready:
		if s.conn != nil {
			// A Recv context ending now must not set a read deadline in
			// the past under the lingering Close: over QUIC that would
			// close the connection at once, discarding the last replies
			// still in flight (a two-process lat run's End reply).
			s.dmu.Lock()
			s.gen++
			s.dmu.Unlock()
			err = s.Flush()
			s.conn.Close()
		}
	default:
	}
	s.wg.Wait()
	select {
	case <-s.ready:
		if s.conn != nil {
			s.conn.Close()
		}
	default:
	}
	if s.stop != nil {
		s.stop()
	}
	return err
}
