package socket

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// handshake runs conn's handshake with the socket's settings.
func (s *Socket) handshake(conn transport.Conn) (transport.PeerInfo, error) {
	return conn.Handshake(s.ctx, &s.cfg)
}

// newPipeLocked registers a new pipe; s.mu must be held.
func (s *Socket) newPipeLocked(endpoint string, dialed bool) *pipe {
	s.nextPipe++
	p := newPipe(s, s.nextPipe, endpoint, dialed)
	s.pipes[p.id] = p
	return p
}

// removePipe forgets p for good and accounts for what it still held: an
// accepted pipe's queue is rerouted where the type allows (reroute.go).
func (s *Socket) removePipe(p *pipe) {
	s.mu.Lock()
	delete(s.pipes, p.id)
	s.mu.Unlock()
	s.pat.Detach(p)
	if !p.dialed {
		s.reroute(p)
	}
	s.dropped(p, DropPeerGone, p.close())
	p.markDrained()
}

// admit asks the pattern whether p may join (PAIR takes one peer).
func (s *Socket) admit(p *pipe) bool {
	return s.admitter == nil || s.admitter.Accepts(p)
}

// connected and disconnected tell a pattern that watches connections.
func (s *Socket) connected(p *pipe) {
	if s.watch != nil {
		s.watch.Connected(p)
	}
}

func (s *Socket) disconnected(p *pipe) {
	if s.watch != nil {
		s.watch.Disconnected(p)
	}
}

// runConn serves one established connection on p until it fails or the
// socket ends: a writer goroutine drains p's queue into conn while this
// goroutine reads messages into the pattern.
//
// A closing socket lingers here: once the writer has flushed everything
// it half-closes the connection (CloseWrite), and the reader goes on until
// the peer, having read to the end, hangs up, or the linger time ends the
// socket's context. Messages that still arrive meanwhile are dropped as
// unread: the application has closed the socket.
func (s *Socket) runConn(p *pipe, conn transport.Conn) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	p.serving(conn)
	defer p.serving(nil)
	p.connected.Store(true)
	writeErr := make(chan error, 1)
	go func() {
		err := p.writeLoop(ctx, conn)
		if err != nil {
			// The connection is unusable for writing: end the reader too.
			conn.Close()
		}
		writeErr <- err
	}()
	// Close the connection when the socket finishes closing (after linger).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	cs := s.journalConn(p, conn)
	s.journalConnected(p, cs)
	defer s.journalDisconnected(p)
	var readErr error
	if r, in, ok := s.batchReading(conn, cs); ok {
		readErr = s.readBatches(ctx, p, r, in)
	} else if r, in, ok := s.streamReading(conn, cs); ok {
		readErr = s.readStream(p, cs, r, in)
	} else if s.rx != nil && cs == nil {
		readErr = s.readInline(ctx, p, conn)
	}
	room := s.roomFirst(cs)
	for readErr == nil {
		if err := s.waitRoom(ctx, p, &room); err != nil {
			readErr = err
			break
		}
		m, err := conn.ReadMsg()
		if err != nil {
			readErr = err
			break
		}
		p.received.Add(1)
		var tag patterns.Tag
		if cs != nil && s.jp != nil {
			s.journalInbound(p, cs, m)
		}
		if cs != nil && cs.hasData {
			t, deliver, err := s.jr.receive(p, cs, m)
			if err != nil {
				readErr = err
				break
			}
			if !deliver {
				continue // a duplicate
			}
			tag = t
		}
		if err := s.pat.Inbound(ctx, p, m, tag); err != nil {
			if s.closing.Load() && errors.Is(err, transport.ErrClosed) {
				s.dropped(p, DropUnread, 1)
				continue
			}
			readErr = err
			break
		}
		s.rx.interrupt() // a Recv reading another pipe inline: this message is for it
	}
	stop()
	cancel()
	conn.Close()
	werr := <-writeErr
	p.connected.Store(false)
	if s.closing.Load() && p.empty() {
		p.markDrained()
	}
	if werr != nil && !errors.Is(werr, context.Canceled) && !errors.Is(werr, transport.ErrClosed) {
		return werr
	}
	return readErr
}

// dialer keeps one connecting pipe connected to its endpoint.
type dialer struct {
	endpoint string
	ep       transport.Endpoint
	tr       transport.Transport
	pipe     *pipe
	cancel   context.CancelFunc
	done     chan struct{}
}

// Connect connects to endpoint asynchronously: it returns at once, and the
// socket dials, handshakes and reconnects (forever, with the reconnect
// interval and backoff) in the background. Until a peer is there, messages
// queue for it up to the send high-water mark, unless WithImmediate.
// Errors are only for bad endpoints, unknown schemes and a closed socket;
// watch Monitor for connection progress.
func (s *Socket) Connect(endpoint string) error {
	ep, tr, err := s.transportFor(endpoint)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if _, dup := s.dialers[endpoint]; dup {
		return fmt.Errorf("%w: already connected to %s", ErrBadEndpoint, endpoint)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	d := &dialer{endpoint: endpoint, ep: ep, tr: tr, cancel: cancel, done: make(chan struct{})}
	d.pipe = s.newPipeLocked(endpoint, true)
	s.dialers[endpoint] = d
	early := !s.opts.immediate && !s.typ.AttachOnHandshake()
	if early {
		s.pat.Attach(d.pipe)
	}
	s.wg.Add(1)
	go s.dialLoop(ctx, d, early)
	return nil
}

// Disconnect stops connecting to endpoint and drops its pipe, with what it
// still had queued (counted as dropped).
func (s *Socket) Disconnect(endpoint string) error {
	s.mu.Lock()
	d, ok := s.dialers[endpoint]
	if ok {
		delete(s.dialers, endpoint)
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotConnected, endpoint)
	}
	d.cancel()
	<-d.done
	return nil
}

func (s *Socket) dialLoop(ctx context.Context, d *dialer, attached bool) {
	defer s.wg.Done()
	defer close(d.done)
	p := d.pipe
	defer s.removePipe(p)
	ivl := s.opts.reconnectIvl
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil || (s.closing.Load() && p.empty()) {
			return
		}
		if attempt > 0 {
			wait := s.reconnectWait(ivl)
			s.mon.emit(Event{Type: EventConnectRetried, Endpoint: d.endpoint, Retry: wait})
			if !sleepCtx(ctx, wait) {
				return
			}
			if s.opts.reconnectIvlMax > ivl {
				ivl = min(2*ivl, s.opts.reconnectIvlMax)
			}
		}
		conn, err := d.tr.Dial(ctx, d.ep)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.mon.emit(Event{Type: EventConnectDelayed, Endpoint: d.endpoint, Err: err, Retry: ivl})
			s.log.Debug("dial failed", "endpoint", d.endpoint, "err", err)
			continue
		}
		s.mon.emit(Event{Type: EventConnected, Endpoint: d.endpoint, Remote: conn.RemoteAddr()})
		info, err := s.handshake(conn)
		if err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return
			}
			s.mon.emit(Event{Type: EventHandshakeFailed, Endpoint: d.endpoint, Remote: conn.RemoteAddr(), Err: err})
			s.log.Debug("handshake failed", "endpoint", d.endpoint, "err", err)
			continue
		}
		p.setPeer(info, conn.RemoteAddr())
		if !s.admit(p) {
			conn.Close()
			s.mon.emit(Event{Type: EventRejected, Endpoint: d.endpoint, Remote: conn.RemoteAddr(), Peer: info, PeerID: p.id})
			continue
		}
		if !attached {
			s.pat.Attach(p)
			attached = true
		}
		s.connected(p)
		s.mon.emit(Event{Type: EventHandshakeSucceeded, Endpoint: d.endpoint, Remote: conn.RemoteAddr(), Peer: info, PeerID: p.id})
		ivl = s.opts.reconnectIvl
		err = s.runConn(p, conn)
		s.disconnected(p)
		dead := s.deadPeer(err)
		if attached && (s.opts.immediate || dead) {
			// With IMMEDIATE, only connected pipes take messages; a dead
			// peer takes none until it shakes hands again (reroute.go).
			s.pat.Detach(p)
			attached = false
		}
		if dead {
			s.reroute(p)
		}
		s.mon.emit(Event{Type: EventDisconnected, Endpoint: d.endpoint, Remote: conn.RemoteAddr(), PeerID: p.id, Err: err})
	}
}

// reconnectWait is the interval plus up to 10% jitter, so many sockets
// that lost the same peer do not reconnect in lockstep.
func (s *Socket) reconnectWait(ivl time.Duration) time.Duration {
	return ivl + time.Duration(rand.Int64N(int64(ivl)/10+1))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *pipe) setPeer(info transport.PeerInfo, remote string) {
	p.peer.Store(&info)
	p.remote.Store(&remote)
	p.conns.Add(1)
}

// Bind listens on endpoint; it is synchronous, so peers can connect as
// soon as it returns. Port 0 picks a free port, and "ipc://*" a fresh
// socket file: LastEndpoint returns the resolved address.
func (s *Socket) Bind(endpoint string) error {
	ep, tr, err := s.transportFor(endpoint)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return ErrClosed
	}
	if _, dup := s.listeners[endpoint]; dup {
		return fmt.Errorf("%w: already bound to %s", transport.ErrAddrInUse, endpoint)
	}
	ln, err := tr.Listen(ep)
	if err != nil {
		s.mon.emit(Event{Type: EventBindFailed, Endpoint: endpoint, Err: err})
		return err
	}
	s.listeners[endpoint] = ln
	s.bound[ln.Endpoint()] = endpoint
	s.lastEndpoint = ln.Endpoint()
	s.mon.emit(Event{Type: EventListening, Endpoint: ln.Endpoint()})
	s.wg.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// Unbind stops listening on an endpoint given to Bind (or its resolved
// form). Connections already accepted stay up.
func (s *Socket) Unbind(endpoint string) error {
	s.mu.Lock()
	if given, ok := s.bound[endpoint]; ok {
		endpoint = given
	}
	ln, ok := s.listeners[endpoint]
	if ok {
		delete(s.listeners, endpoint)
		delete(s.bound, ln.Endpoint())
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotBound, endpoint)
	}
	s.mon.emit(Event{Type: EventClosed, Endpoint: ln.Endpoint()})
	return ln.Close()
}

// LastEndpoint returns the resolved form of the endpoint last bound, such
// as "tcp://127.0.0.1:41234" after Bind("tcp://127.0.0.1:0").
func (s *Socket) LastEndpoint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEndpoint
}

func (s *Socket) acceptLoop(ln transport.Listener) {
	defer s.wg.Done()
	endpoint := ln.Endpoint()
	backoff := time.Millisecond
	for {
		conn, err := ln.Accept(s.ctx)
		if err != nil {
			if errors.Is(err, transport.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: report, back off, go on.
			s.mon.emit(Event{Type: EventAcceptFailed, Endpoint: endpoint, Err: err})
			if !sleepCtx(s.ctx, backoff) {
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = time.Millisecond
		s.mon.emit(Event{Type: EventAccepted, Endpoint: endpoint, Remote: conn.RemoteAddr()})
		s.wg.Add(1)
		go s.serveAccepted(endpoint, conn)
	}
}

// serveAccepted shakes hands with an accepted connection on its own
// goroutine, so a stalled peer never holds up the others, then serves it.
func (s *Socket) serveAccepted(endpoint string, conn transport.Conn) {
	defer s.wg.Done()
	if s.closing.Load() {
		conn.Close()
		return
	}
	info, err := s.handshake(conn)
	if err != nil {
		conn.Close()
		if s.ctx.Err() == nil {
			s.mon.emit(Event{Type: EventHandshakeFailed, Endpoint: endpoint, Remote: conn.RemoteAddr(), Err: err})
			s.log.Debug("handshake failed", "endpoint", endpoint, "remote", conn.RemoteAddr(), "err", err)
		}
		return
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		conn.Close()
		return
	}
	p := s.newPipeLocked(endpoint, false)
	s.mu.Unlock()
	p.setPeer(info, conn.RemoteAddr())
	if !s.admit(p) {
		conn.Close()
		s.mon.emit(Event{Type: EventRejected, Endpoint: endpoint, Remote: conn.RemoteAddr(), Peer: info, PeerID: p.id})
		s.removePipe(p)
		return
	}
	s.pat.Attach(p)
	s.connected(p)
	s.mon.emit(Event{Type: EventHandshakeSucceeded, Endpoint: endpoint, Remote: conn.RemoteAddr(), Peer: info, PeerID: p.id})
	err = s.runConn(p, conn)
	s.disconnected(p)
	s.removePipe(p)
	s.mon.emit(Event{Type: EventDisconnected, Endpoint: endpoint, Remote: conn.RemoteAddr(), PeerID: p.id, Err: err})
}
