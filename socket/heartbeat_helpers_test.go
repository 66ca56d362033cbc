package socket_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// eventLog records a socket's monitor events, and logs them all if the
// test fails.
type eventLog struct {
	mu      sync.Mutex
	events  []socket.Event
	changed chan struct{} // closed and replaced on each event
}

func watchEvents(t *testing.T, s *socket.Socket, name string) *eventLog {
	in, stop := s.Monitor()
	l := &eventLog{changed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range in {
			l.mu.Lock()
			l.events = append(l.events, e)
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
		if t.Failed() {
			var lines []string
			for _, e := range l.events {
				lines = append(lines, e.Time.Format("15:04:05.000")+" "+e.String())
			}
			t.Logf("%s events:\n%s", name, strings.Join(lines, "\n"))
		}
	})
	return l
}

// count is the number of events so far that match.
func (l *eventLog) count(match func(socket.Event) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if match(e) {
			n++
		}
	}
	return n
}

// len is the number of events so far: an index for await.
func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// await returns the first event from index from on that matches, waiting
// for it until ctx ends.
func (l *eventLog) await(ctx context.Context, from int, match func(socket.Event) bool) (socket.Event, error) {
	for {
		l.mu.Lock()
		for ; from < len(l.events); from++ {
			if e := l.events[from]; match(e) {
				l.mu.Unlock()
				return e, nil
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return socket.Event{}, ctx.Err()
		}
	}
}

// Where a sequence number was seen (seqTracker).
const (
	atLive    = iota // received by the live peer
	atChild          // received by the child
	atFlushed        // flushed on a connection to the child
	numSeen
)

// seqTracker counts, per sequence number, the copies received by each
// peer and whether it was flushed to the child.
type seqTracker struct {
	mu      sync.Mutex
	seen    [numSeen][]uint8
	changed chan struct{} // closed and replaced on each record
}

func newSeqTracker() *seqTracker { return &seqTracker{changed: make(chan struct{})} }

func (s *seqTracker) record(where int, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &s.seen[where]
	for uint64(len(*l)) <= seq {
		*l = append(*l, 0)
	}
	(*l)[seq]++
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *seqTracker) at(where int, seq uint64) uint8 {
	if l := s.seen[where]; seq < uint64(len(l)) {
		return l[seq]
	}
	return 0
}

// waitFor waits until ok holds for every sequence number in [lo, hi),
// checking as records come in; ok is called with s.mu held.
func (s *seqTracker) waitFor(ctx context.Context, lo, hi uint64, ok func(seq uint64) bool) error {
	next := lo
	for {
		s.mu.Lock()
		for next < hi && ok(next) {
			next++
		}
		changed := s.changed
		s.mu.Unlock()
		if next == hi {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", s.describe(lo, hi, ok), ctx.Err())
		}
	}
}

// waitLive waits until the live peer received every message of [lo, hi).
func (s *seqTracker) waitLive(ctx context.Context, lo, hi uint64) error {
	return s.waitFor(ctx, lo, hi, func(seq uint64) bool { return s.at(atLive, seq) > 0 })
}

// waitDelivered waits until every message of [0, n) that was not flushed
// to the child reached one of the peers.
func (s *seqTracker) waitDelivered(ctx context.Context, n uint64) error {
	return s.waitFor(ctx, 0, n, func(seq uint64) bool {
		return s.at(atFlushed, seq) > 0 || s.at(atLive, seq)+s.at(atChild, seq) > 0
	})
}

// waitChild waits until the child received something.
func (s *seqTracker) waitChild(ctx context.Context) error {
	for {
		s.mu.Lock()
		got := len(s.seen[atChild]) > 0
		changed := s.changed
		s.mu.Unlock()
		if got {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// describe lists the runs of sequence numbers in [lo, hi) for which ok
// does not hold; s.mu must not be held.
func (s *seqTracker) describe(lo, hi uint64, ok func(uint64) bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var runs []string
	n := 0
	for i := lo; i < hi; i++ {
		if ok(i) {
			continue
		}
		j := i
		for j+1 < hi && !ok(j+1) {
			j++
		}
		n += int(j - i + 1)
		if len(runs) < 8 {
			runs = append(runs, fmt.Sprintf("%d-%d", i, j))
		}
		i = j
	}
	return fmt.Sprintf("%d of [%d, %d) missing: %s", n, lo, hi, strings.Join(runs, " "))
}

// totals returns, over [0, n), the messages received more than once
// (by either peer, or by both), and those flushed to the child that
// neither peer received (lost in the kernel's buffers with the child's
// connection).
func (s *seqTracker) totals(n uint64) (dups []uint64, lost, flushed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		got := s.at(atLive, i) + s.at(atChild, i)
		if got > 1 {
			dups = append(dups, i)
		}
		if s.at(atFlushed, i) > 0 {
			flushed++
			if got == 0 {
				lost++
			}
		}
	}
	return dups, lost, flushed
}

// flushRecorder is tcp, recording in seqs which messages a successful
// Flush (or CloseWrite) settled on connections to the child: those that
// reached the kernel, and only those, are the child's to lose.
type flushRecorder struct {
	transport.Transport
	seqs *seqTracker
}

func newFlushRecorder(seqs *seqTracker) *flushRecorder {
	return &flushRecorder{Transport: tcp.New(), seqs: seqs}
}

func (r *flushRecorder) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	c, err := r.Transport.Dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, seqs: r.seqs}, nil
}

func (r *flushRecorder) Listen(ep transport.Endpoint) (transport.Listener, error) {
	ln, err := r.Transport.Listen(ep)
	if err != nil {
		return nil, err
	}
	return &recListener{Listener: ln, seqs: r.seqs}, nil
}

type recListener struct {
	transport.Listener
	seqs *seqTracker
}

func (l *recListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, seqs: l.seqs}, nil
}

// recConn is used as a transport.Conn: Handshake, then one writer.
type recConn struct {
	transport.Conn
	seqs    *seqTracker
	child   bool     // the peer is the child (set by Handshake)
	pending []uint64 // written since the last flush
}

func (c *recConn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	info, err := c.Conn.Handshake(ctx, cfg)
	v, _ := info.Property(frozenRole)
	c.child = string(v) == "child"
	return info, err
}

func (c *recConn) WriteMsg(m transport.Msg) error {
	seq := binary.BigEndian.Uint64(m.Frames[0])
	err := c.Conn.WriteMsg(m)
	if err == nil && c.child {
		c.pending = append(c.pending, seq)
	}
	return err
}

func (c *recConn) Flush() error { return c.settle(c.Conn.Flush()) }

func (c *recConn) CloseWrite() error { return c.settle(c.Conn.CloseWrite()) }

func (c *recConn) settle(err error) error {
	if err == nil {
		for _, seq := range c.pending {
			c.seqs.record(atFlushed, seq)
		}
	}
	c.pending = c.pending[:0]
	return err
}
