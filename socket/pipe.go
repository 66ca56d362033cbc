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
	ring    []outItem
	head, n int
	data    int // data items queued: what the HWM counts
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
		ring:     make([]outItem, 16),
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
	p.pushLocked(outItem{kind: itemData, msg: m})
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
		p.pushLocked(outItem{kind: kind, topic: topic})
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
	items := make([]outItem, 0, len(topics)+p.n)
	for _, t := range topics {
		items = append(items, outItem{kind: itemSubscribe, topic: t})
	}
	for i := 0; i < p.n; i++ {
		it := p.at(i)
		if it.kind == itemData {
			items = append(items, it)
		}
	}
	p.replaceLocked(items)
	p.wakeLocked()
}

func (p *pipe) at(i int) outItem {
	k := p.head + i
	if k >= len(p.ring) {
		k -= len(p.ring)
	}
	return p.ring[k]
}

func (p *pipe) replaceLocked(items []outItem) {
	size := len(p.ring)
	for size < len(items) {
		size *= 2
	}
	ring := make([]outItem, size)
	copy(ring, items)
	p.ring, p.head, p.n = ring, 0, len(items)
}

func (p *pipe) pushLocked(it outItem) {
	if p.n == len(p.ring) {
		ring := make([]outItem, 2*len(p.ring))
		k := copy(ring, p.ring[p.head:])
		copy(ring[k:], p.ring[:p.head])
		p.ring, p.head = ring, 0
	}
	k := p.head + p.n
	if k >= len(p.ring) {
		k -= len(p.ring)
	}
	p.ring[k] = it
	p.n++
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

// popAll moves every queued item to dst. It reports whether a sender was
// refused for a full queue since the last call (so the pattern must be
// told the pipe is writable again). With nothing queued it marks the
// writer as waiting for a wake token.
func (p *pipe) popAll(dst []outItem) ([]outItem, bool) {
	p.mu.Lock()
	for i := 0; i < p.n; i++ {
		dst = append(dst, p.ring[p.head])
		p.ring[p.head] = outItem{}
		p.head++
		if p.head == len(p.ring) {
			p.head = 0
		}
	}
	p.head, p.n, p.data = 0, 0, 0
	wasFull := p.full && len(dst) > 0
	if wasFull {
		p.full = false
	}
	p.waiting = len(dst) == 0
	p.mu.Unlock()
	return dst, wasFull
}

// requeue puts data items that could not be written back in front of the
// queue, in order; unsent subscription commands are dropped because the
// pattern resends the full set on the next connection.
func (p *pipe) requeue(items []outItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]outItem, 0, len(items)+p.n)
	data := 0
	for _, it := range items {
		if it.kind == itemData {
			all = append(all, it)
			data++
		}
	}
	for i := 0; i < p.n; i++ {
		all = append(all, p.at(i))
	}
	p.replaceLocked(all)
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
	return p.n == 0
}

// close refuses further items and returns the data messages still queued.
func (p *pipe) close() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	n := p.data
	p.ring, p.head, p.n, p.data = nil, 0, 0, 0
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
// queued has been flushed (linger). Items written but not flushed when
// the connection fails go back in front of the queue.
func (p *pipe) writeLoop(ctx context.Context, conn transport.Conn) error {
	var batch, unflushed []outItem
	unflushedBytes := 0
	fail := func(err error, rest []outItem) error {
		p.requeue(append(unflushed, rest...))
		return err
	}
	flush := func() error {
		if err := conn.Flush(); err != nil {
			return err
		}
		p.sent.Add(uint64(countData(unflushed)))
		clear(unflushed)
		unflushed, unflushedBytes = unflushed[:0], 0
		return nil
	}
	for {
		var wasFull bool
		batch, wasFull = p.popAll(batch[:0])
		if wasFull {
			p.s.pat.Writable(p)
		}
		if len(batch) == 0 {
			if len(unflushed) > 0 {
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
			case itemSubscribe:
				err = conn.WriteSubscription(it.topic, true)
			case itemCancel:
				err = conn.WriteSubscription(it.topic, false)
			}
			if err != nil {
				return fail(err, batch[i:])
			}
			unflushed = append(unflushed, it)
			unflushedBytes += it.msg.Size() + len(it.topic)
			if unflushedBytes >= flushBytes || len(unflushed) >= flushItems {
				if err := flush(); err != nil {
					return fail(err, batch[i+1:])
				}
			}
		}
		clear(batch)
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
