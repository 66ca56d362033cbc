package socket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// Msg is one multipart message.
type Msg = transport.Msg

// NewMsg returns a message made of frames (not copied).
func NewMsg(frames ...[]byte) Msg { return transport.NewMsg(frames...) }

// Socket is a brook socket. Create it with New; it is safe for concurrent
// use.
type Socket struct {
	typ  Type
	opts options
	pat  patterns.Pattern
	// The pattern's optional capabilities, asserted once (nil when it
	// lacks one).
	snd      patterns.Sender
	rcv      patterns.Receiver
	subs     patterns.Subscriber
	watch    patterns.PeerWatcher
	admitter patterns.Admitter
	waker    patterns.Waker
	// The journal profile: the journal and its queue-model sender
	// (WithJournal), and the receiving side (sockets that receive).
	jnl  *journal
	jq   *qsender
	jp   *publisher
	jr   *receiver
	log  *slog.Logger
	cfg  transport.Config
	trs  map[string]transport.Transport
	ctr  counters
	mon  monitor
	drop dropEvents
	inl  inlineClaims // pipes a sending goroutine writes itself (inline.go)
	// The reading role a receiving goroutine may take (inlinerecv.go),
	// nil when receives are never inline; rwait is the pattern's
	// recvWaiter then.
	rx    *inlineRecv
	rwait recvWaiter

	ctx    context.Context // ends when the socket is fully closed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error

	mu           sync.Mutex
	nextPipe     uint64
	pipes        map[uint64]*pipe
	listeners    map[string]transport.Listener // by the endpoint given to Bind
	dialers      map[string]*dialer            // by the endpoint given to Connect
	bound        map[string]string             // resolved endpoint -> given endpoint
	lastEndpoint string
}

// New creates a socket of type t. Options are validated here; the first
// invalid one is returned as an error matching ErrBadOption.
func New(t Type, opts ...Option) (*Socket, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("%w: socket type %d", ErrBadOption, int(t))
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.checkFor(t); err != nil {
		return nil, err
	}
	if err := o.journal.checkFor(t); err != nil {
		return nil, err
	}
	security, err := o.security.build()
	if err != nil {
		return nil, err
	}
	s := &Socket{
		typ:       t,
		opts:      o,
		log:       o.logger.With("socket", t.String()),
		pipes:     make(map[uint64]*pipe),
		listeners: make(map[string]transport.Listener),
		dialers:   make(map[string]*dialer),
		bound:     make(map[string]string),
		trs:       make(map[string]transport.Transport),
	}
	s.mon.subs = make(map[int]chan Event)
	s.mon.buf = o.monitorBuffer
	pat, err := patterns.New(t, s.patternConfig())
	if err != nil {
		return nil, err
	}
	s.pat = pat
	s.snd, _ = pat.(patterns.Sender)
	s.rcv, _ = pat.(patterns.Receiver)
	s.subs, _ = pat.(patterns.Subscriber)
	s.watch, _ = pat.(patterns.PeerWatcher)
	s.admitter, _ = pat.(patterns.Admitter)
	s.waker, _ = pat.(patterns.Waker)
	for _, tr := range append(defaultTransports(), o.transports...) {
		for _, scheme := range tr.Schemes() {
			s.trs[scheme] = tr
		}
	}
	props, err := s.openJournal()
	if err != nil {
		return nil, err
	}
	s.cfg = transport.Config{
		SocketType:        t.String(),
		PeerTypes:         t.PeerNames(),
		AnnounceIdentity:  t.AnnouncesIdentity(),
		Identity:          o.routingID,
		Properties:        props,
		MaxMsgSize:        o.maxMsgSize,
		HandshakeTimeout:  o.handshakeTimeout,
		HeartbeatInterval: o.heartbeatIvl,
		HeartbeatTimeout:  o.heartbeatTimeout,
		HeartbeatTTL:      o.heartbeatTTL,
		Logger:            s.log,
		Security:          security,
	}
	if s.rx = newInlineRecv(t, pat, s.jnl != nil || s.jr != nil || s.jp != nil, o.heartbeatIvl, o.heartbeatTimeout); s.rx != nil {
		s.rwait = recvWaiterOf(pat)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.startJournal()
	return s, nil
}

func (s *Socket) patternConfig() patterns.Config {
	cfg := patterns.Config{
		RecvHWM: s.opts.recvHWM,
		OnDrop: func(d patterns.Drop) {
			if d.Reason == DropNoPeer && s.jp != nil {
				// A journaled publisher keeps every message: no live
				// subscriber is no loss (resuming ones read the journal).
				return
			}
			if d.Tag != 0 && s.jr != nil {
				// The journaled message never reaches the application:
				// its sender delivers it again.
				s.jr.forget(d.Tag)
			}
			s.dropped(d.Pipe, d.Reason, 1)
		},
	}
	for _, f := range s.opts.patternOpts {
		f(&cfg)
	}
	return cfg
}

// Type returns the socket's type.
func (s *Socket) Type() Type { return s.typ }

func (s *Socket) transportFor(endpoint string) (transport.Endpoint, transport.Transport, error) {
	ep, err := transport.ParseEndpoint(endpoint)
	if err != nil {
		return ep, nil, err
	}
	tr, ok := s.trs[ep.Scheme]
	if !ok {
		return ep, nil, fmt.Errorf("%w %q in %q", ErrUnknownScheme, ep.Scheme, endpoint)
	}
	return ep, tr, nil
}

// Send queues m for delivery according to the socket type, blocking where
// ZeroMQ blocks (no peer ready, or every peer at its high-water mark)
// until ctx ends. Send takes ownership of m's frames: the caller must not
// change them afterwards (inproc peers receive the very same slices). A nil error means
// the message was queued; it may still be in flight when a peer dies
// (ZeroMQ's at-most-once delivery; use a journal for more).
func (s *Socket) Send(ctx context.Context, m Msg) error {
	if s.closing.Load() {
		return ErrClosed
	}
	if len(m.Frames) == 0 {
		return ErrEmptyMsg
	}
	if s.jq != nil {
		p, err := s.jq.send(ctx, m, sendOpts{})
		if err == nil {
			err = p.Wait(ctx)
		}
		if err != nil {
			return journalError(err)
		}
		s.ctr.sent.Add(1)
		return nil
	}
	if s.jp != nil {
		if _, err := s.jp.send(ctx, m, true); err != nil {
			return journalError(err)
		}
		s.ctr.sent.Add(1)
		return nil
	}
	if s.snd == nil {
		return fmt.Errorf("%w: Send on %s", ErrNotSupported, s.typ)
	}
	if err := s.route(ctx, m); err != nil {
		if errors.Is(err, transport.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	s.ctr.sent.Add(1)
	return nil
}

// Recv returns the next message for the application, waiting until ctx
// ends. The frames belong to the caller but may be shared with other
// receivers of the same message (a PUB's subscribers over inproc get the
// very frames it sent): treat them as read-only, or copy before changing.
func (s *Socket) Recv(ctx context.Context) (Msg, error) {
	if s.closing.Load() {
		return Msg{}, ErrClosed
	}
	if s.rcv == nil {
		return Msg{}, fmt.Errorf("%w: Recv on %s", ErrNotSupported, s.typ)
	}
	if s.rx != nil {
		for {
			if err := s.recvInline(ctx); err != nil {
				if s.closing.Load() {
					return Msg{}, ErrClosed
				}
				return Msg{}, err
			}
			if s.enterWait() {
				break
			}
			// The reader goroutine handed its role over meanwhile.
		}
		defer s.rx.leaveWait()
	}
	for {
		r, err := s.rcv.Recv(ctx)
		if err != nil {
			if errors.Is(err, transport.ErrClosed) || s.closing.Load() {
				return Msg{}, ErrClosed
			}
			return Msg{}, err
		}
		if r.Tag != 0 && s.jr != nil && !s.jr.receivedAcked(r.Tag) {
			continue // acknowledged by another receiver meanwhile
		}
		s.ctr.received.Add(1)
		return r.Msg, nil
	}
}

// Subscribe adds a topic prefix subscription (SUB; on XSUB it sends the
// subscription upstream). The empty prefix matches every message.
func (s *Socket) Subscribe(prefix []byte) error {
	if s.closing.Load() {
		return ErrClosed
	}
	if s.subs == nil {
		return fmt.Errorf("%w: Subscribe on %s", ErrNotSupported, s.typ)
	}
	return s.subs.Subscribe(append([]byte(nil), prefix...))
}

// Unsubscribe removes one subscription to prefix (subscriptions are
// counted: two Subscribe calls need two Unsubscribe calls).
func (s *Socket) Unsubscribe(prefix []byte) error {
	if s.closing.Load() {
		return ErrClosed
	}
	if s.subs == nil {
		return fmt.Errorf("%w: Unsubscribe on %s", ErrNotSupported, s.typ)
	}
	return s.subs.Unsubscribe(append([]byte(nil), prefix...))
}

// Close stops the socket: listeners close at once, then queued messages
// are delivered for up to the linger time (WithLinger), then every
// connection is closed and every goroutine of the socket has ended.
// Blocked and later calls fail with ErrClosed. Close is idempotent.
//
// Lingering is stronger than libzmq's: once a connection's queue is
// written out, brook half-closes it and waits for the peer to read to the
// end and hang up (libzmq, pyzmq and brook peers all do), so when Close
// returns within the linger time every queued message has been read by
// its peer's socket, not merely handed to the kernel. A peer that does not
// read holds Close for at most the linger time; what it never read is
// counted as dropped.
func (s *Socket) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Socket) close() error {
	s.closing.Store(true)
	s.pat.Close()
	s.rx.stop() // a Recv reading inline returns ErrClosed
	if s.jr != nil {
		s.jr.stopWaiting()
	}
	// One linger budget for everything Close waits for.
	lctx := context.Background()
	if s.opts.linger > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(lctx, s.opts.linger)
		defer cancel()
	}
	if s.opts.linger != 0 {
		s.lingerJournal(lctx)
	}
	var errs []error
	s.mu.Lock()
	for ep, ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, transport.ErrClosed) {
			errs = append(errs, err)
		}
		delete(s.listeners, ep)
		s.mon.emit(Event{Type: EventClosed, Endpoint: ep})
	}
	pipes := make([]*pipe, 0, len(s.pipes))
	for _, p := range s.pipes {
		pipes = append(pipes, p)
	}
	s.mu.Unlock()
	if s.opts.linger != 0 {
		s.linger(lctx, pipes)
	}
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	for _, p := range s.pipes {
		s.dropped(p, DropPeerGone, p.close())
	}
	s.mu.Unlock()
	if s.rcv != nil {
		// Received but never taken by the application: lost with the socket.
		s.dropped(nil, DropUnread, s.rcv.Unread())
	}
	errs = append(errs, s.closeJournal())
	s.drop.close(&s.mon)
	s.mon.close()
	return errors.Join(errs...)
}

// linger waits until every pipe's queue has been written out and read by
// its peer, or ctx (the linger time) ends.
func (s *Socket) linger(ctx context.Context, pipes []*pipe) {
	for _, p := range pipes {
		p.nudge()
		select {
		case <-p.drainedC():
		case <-ctx.Done():
			return
		}
	}
}
