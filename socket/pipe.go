package socket

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// item kinds in a pipe's send queue.
const (
	itemData = iota
	itemSubscribe
	itemCancel
)

type outItem struct {
	kind  uint8
	msg   Msg
	topic []byte
}

// pipe is one peer of a socket: a bounded send queue drained by a writer
// goroutine, plus the peer's handshake facts. A connecting pipe outlives
// its connections (messages queued while disconnected go out after the
// reconnect); an accepted pipe lives and dies with its one connection.
type pipe struct {
	id       uint64
	s        *Socket
	endpoint string
	dialed   bool

	peer      atomic.Pointer[transport.PeerInfo]
	connected atomic.Bool
	remote    atomic.Pointer[string]
	sent      atomic.Uint64
	received  atomic.Uint64
	conns     atomic.Uint64

	mu      sync.Mutex
	q       []outItem // queued items, oldest first; swapped out whole by the writer
	data    int       // data items queued: what the HWM counts
	hwm     int
	full    bool // a TrySend was refused since the last drain
	closed  bool
	waiting bool          // the writer waits on wake
	wake    chan struct{} // token for the writer

	drainOnce sync.Once
	drained   chan struct{} // closed once nothing more will be written (linger)
}

func newPipe(s *Socket, id uint64, endpoint string, dialed bool) *pipe {
	return &pipe{
		id:       id,
		s:        s,
		endpoint: endpoint,
		dialed:   dialed,
		hwm:      s.opts.sendHWM,
		q:        make([]outItem, 0, 16),
		wake:     make(chan struct{}, 1),
		drained:  make(chan struct{}),
	}
}

// markDrained tells a lingering Close this pipe has nothing more to send.
func (p *pipe) markDrained() { p.drainOnce.Do(func() { close(p.drained) }) }

// drainedC returns a channel closed once the pipe has written out all it
// had queued (or can never write again). A pipe without a connection and
// with nothing queued counts as drained at once.
func (p *pipe) drainedC() <-chan struct{} {
	if !p.connected.Load() && p.empty() {
		p.markDrained()
	}
	return p.drained
}

// ID implements patterns.Pipe.
func (p *pipe) ID() uint64 { return p.id }

// Peer implements patterns.Pipe.
func (p *pipe) Peer() transport.PeerInfo {
	if pi := p.peer.Load(); pi != nil {
		return *pi
	}
	return transport.PeerInfo{}
}

// TrySend implements patterns.Pipe.
func (p *pipe) TrySend(m Msg) bool {
	p.mu.Lock()
	if p.closed || (p.hwm > 0 && p.data >= p.hwm) {
		p.full = true
		p.mu.Unlock()
		return false
	}
	p.q = append(p.q, outItem{kind: itemData, msg: m})
	p.data++
	p.wakeLocked()
	p.mu.Unlock()
	return true
}

// SendSubscription implements patterns.Pipe.
func (p *pipe) SendSubscription(topic []byte, subscribe bool) {
	kind := uint8(itemCancel)
	if subscribe {
		kind = itemSubscribe
	}
	p.mu.Lock()
	if !p.closed {
		p.q = append(p.q, outItem{kind: kind, topic: topic})
		p.wakeLocked()
	}
	p.mu.Unlock()
}

// ResetSubscriptions implements patterns.Pipe.
func (p *pipe) ResetSubscriptions(topics [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	items := make([]outItem, 0, len(topics)+len(p.q))
	for _, t := range topics {
		items = append(items, outItem{kind: itemSubscribe, topic: t})
	}
	for _, it := range p.q {
		if it.kind == itemData {
			items = append(items, it)
		}
	}
	p.q = items
	p.wakeLocked()
}

func (p *pipe) wakeLocked() {
	if p.waiting {
		p.waiting = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// nudge wakes the writer (closing, linger).
func (p *pipe) nudge() {
	p.mu.Lock()
	p.waiting = true
	p.wakeLocked()
	p.mu.Unlock()
}

// popAll takes every queued item, leaving spare (emptied, its capacity
// reused) as the new queue: a swap, no copying. It reports whether a
// sender was refused for a full queue since the last call (so the pattern
// must be told the pipe is writable again). With nothing queued it marks
// the writer as waiting for a wake token.
func (p *pipe) popAll(spare []outItem) ([]outItem, bool) {
	p.mu.Lock()
	out := p.q
	p.q = spare[:0]
	p.data = 0
	wasFull := p.full && len(out) > 0
	if wasFull {
		p.full = false
	}
	p.waiting = len(out) == 0
	p.mu.Unlock()
	return out, wasFull
}

// requeue puts data items that could not be written back in front of the
// queue, in order; unsent subscription commands are dropped because the
// pattern resends the full set on the next connection.
func (p *pipe) requeue(items []outItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]outItem, 0, len(items)+len(p.q))
	data := 0
	for _, it := range items {
		if it.kind == itemData {
			all = append(all, it)
			data++
		}
	}
	p.q = append(all, p.q...)
	p.data += data
}

// queued is the number of data messages waiting.
func (p *pipe) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data
}

// empty reports whether nothing at all is queued.
func (p *pipe) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.q) == 0
}

// close refuses further items and returns the data messages still queued.
func (p *pipe) close() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	n := p.data
	p.q, p.data = nil, 0
	return n
}

func (p *pipe) stats() PeerStats {
	ps := PeerStats{
		ID:          p.id,
		Endpoint:    p.endpoint,
		Peer:        p.Peer(),
		Connected:   p.connected.Load(),
		Queued:      p.queued(),
		Sent:        p.sent.Load(),
		Received:    p.received.Load(),
		Connections: p.conns.Load(),
	}
	if r := p.remote.Load(); r != nil {
		ps.Remote = *r
	}
	return ps
}

// writeLoop drains the send queue into conn, many messages per flush, until
// the connection fails, ctx ends, or the socket is closing and everything
// queued has been flushed (linger). Batches written but not yet flushed
// are kept, and go back in front of the queue when the connection fails.
func (p *pipe) writeLoop(ctx context.Context, conn transport.Conn) error {
	var (
		pending      [][]outItem // written, not yet flushed, oldest first
		free         [][]outItem // emptied batches, to be swapped in again
		pendingBytes int
		pendingItems int
	)
	spare := func() []outItem {
		if n := len(free); n > 0 {
			b := free[n-1]
			free = free[:n-1]
			return b
		}
		return nil
	}
	fail := func(err error, rest []outItem) error {
		var items []outItem
		for _, b := range pending {
			items = append(items, b...)
		}
		p.requeue(append(items, rest...))
		return err
	}
	flush := func() error {
		if err := conn.Flush(); err != nil {
			return err
		}
		for _, b := range pending {
			p.sent.Add(uint64(countData(b)))
			clear(b)
			free = append(free, b[:0])
		}
		clear(pending)
		pending, pendingBytes, pendingItems = pending[:0], 0, 0
		return nil
	}
	for {
		batch, wasFull := p.popAll(spare())
		if wasFull {
			p.s.pat.Writable(p)
		}
		if len(batch) == 0 {
			free = append(free, batch)
			if len(pending) > 0 {
				if err := flush(); err != nil {
					return fail(err, nil)
				}
				continue
			}
			if p.s.closing.Load() {
				p.markDrained()
				return nil
			}
			select {
			case <-p.wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		for i, it := range batch {
			var err error
			switch it.kind {
			case itemData:
				err = conn.WriteMsg(it.msg)
				pendingBytes += it.msg.Size()
			case itemSubscribe:
				err = conn.WriteSubscription(it.topic, true)
			case itemCancel:
				err = conn.WriteSubscription(it.topic, false)
			}
			if err != nil {
				return fail(err, batch[i:])
			}
		}
		pending = append(pending, batch)
		pendingItems += len(batch)
		if pendingBytes >= flushBytes || pendingItems >= flushItems {
			if err := flush(); err != nil {
				return fail(err, nil)
			}
		}
	}
}

// A busy writer flushes at least every flushBytes or flushItems, so
// unflushed messages kept for requeueing stay bounded.
const (
	flushBytes = 256 << 10
	flushItems = 4096
)

func countData(items []outItem) int {
	n := 0
	for _, it := range items {
		if it.kind == itemData {
			n++
		}
	}
	return n
}
