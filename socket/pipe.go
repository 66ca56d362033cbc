package socket

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// item kinds in a pipe's send queue.
const (
	itemData      = iota // an application message
	itemSubscribe        // a subscription: msg.Frames[0] is the topic
	itemCancel           // a cancellation: msg.Frames[0] is the topic
	itemCommand          // a command: msg.Frames is {name, data}
	itemJournal          // a journaled message: msg.Frames[0] is its JDATA, the rest the message
	itemStream           // a journaled stream message: msg.Frames[0] is its JSTREAM
)

// outItem is one queued message, or a command whose parts are the
// message's frames. It holds a single pointer, so queueing it costs as
// little write-barrier work as possible.
type outItem struct {
	kind uint8
	msg  Msg
}

func subItem(kind uint8, topic []byte) outItem {
	return outItem{kind: kind, msg: Msg{Frames: [][]byte{topic}}}
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

	// jfed is set on a subscriber a journaled publisher serves from its
	// journal: the pattern's live fan-out skips it (TrySend takes and
	// drops), its feeder sends instead.
	jfed atomic.Bool
	// lastJournal is the journal id a publisher announced on this pipe's
	// last connection (used by its connection's goroutine only).
	lastJournal durable.JournalID

	mu      sync.Mutex
	q       []outItem // queued items, oldest first; swapped out whole by the writer
	data    int       // data items queued: what the HWM counts
	jdata   int       // journaled messages queued (a feeder's flow control)
	hwm     int
	full    bool // a TrySend was refused since the last drain
	closed  bool
	waiting bool          // the writer waits on wake
	wake    chan struct{} // token for the writer

	drainOnce sync.Once
	drained   chan struct{} // closed once nothing more will be written (linger)

	connMu sync.Mutex
	conn   transport.Conn // the connection being served, nil between connections
}

// serving records the connection runConn serves (nil when it ends).
func (p *pipe) serving(c transport.Conn) {
	p.connMu.Lock()
	p.conn = c
	p.connMu.Unlock()
}

// DisconnectPeer implements patterns.Disconnecter: it ends the current
// connection (a ROUTER handing the peer's routing id over to a newcomer).
// The pipe then goes through Disconnected as for any lost connection.
func (p *pipe) DisconnectPeer() {
	p.connMu.Lock()
	c := p.conn
	p.connMu.Unlock()
	if c != nil {
		c.Close()
	}
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
	if p.jfed.Load() {
		return true // served from the journal, not from the live fan-out
	}
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

// sendCommand queues a command ahead of the data high-water mark (like a
// subscription, it is never dropped while the pipe is open). It reports
// false when the pipe is closed.
func (p *pipe) sendCommand(name string, data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.q = append(p.q, outItem{kind: itemCommand, msg: Msg{Frames: [][]byte{[]byte(name), data}}})
	p.wakeLocked()
	return true
}

// sendJournaled queues a journaled message: frames[0] is its encoded
// JDATA (or, for a stream, JSTREAM), the rest the application's frames.
// The journal's dispatcher and feeders bound what they put in flight per
// peer, so the high-water mark does not refuse it; it reports false when
// the pipe is closed.
func (p *pipe) sendJournaled(frames [][]byte, stream bool) bool {
	kind := uint8(itemJournal)
	if stream {
		kind = itemStream
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.q = append(p.q, outItem{kind: kind, msg: Msg{Frames: frames}})
	p.jdata++
	if p.hwm > 0 && p.jdata >= p.hwm {
		p.full = true // the writer's next pass reports room (pipeWritable)
	}
	p.wakeLocked()
	return true
}

// sendJournaledBatch is sendJournaled for several messages under one
// lock.
func (p *pipe) sendJournaledBatch(msgs [][][]byte, stream bool) bool {
	kind := uint8(itemJournal)
	if stream {
		kind = itemStream
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, frames := range msgs {
		p.q = append(p.q, outItem{kind: kind, msg: Msg{Frames: frames}})
	}
	p.jdata += len(msgs)
	if p.hwm > 0 && p.jdata >= p.hwm {
		p.full = true // the writer's next pass reports room (pipeWritable)
	}
	p.wakeLocked()
	return true
}

// journalQueued is the number of journaled messages waiting.
func (p *pipe) journalQueued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jdata
}

// SendSubscription implements patterns.Pipe.
func (p *pipe) SendSubscription(topic []byte, subscribe bool) {
	kind := uint8(itemCancel)
	if subscribe {
		kind = itemSubscribe
	}
	p.mu.Lock()
	if !p.closed {
		p.q = append(p.q, subItem(kind, topic))
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
		items = append(items, subItem(itemSubscribe, t))
	}
	for _, it := range p.q {
		if it.kind != itemSubscribe && it.kind != itemCancel {
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
	p.data, p.jdata = 0, 0
	wasFull := p.full && len(out) > 0
	if wasFull {
		p.full = false
	}
	p.waiting = len(out) == 0
	p.mu.Unlock()
	return out, wasFull
}

// requeue puts data items that could not be written back in front of the
// queue, in order. Unsent subscriptions are dropped because the pattern
// resends the full set on the next connection; unsent journaled messages
// and commands too, because the journal redelivers what a lost connection
// had in flight and speaks afresh on the next one.
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
// queued has been flushed (linger).
//
// The writer decides every flush itself: it flushes before the
// connection's buffer could fill (flushBytes), so nothing leaves behind
// its back. What was written since the last successful flush is exactly
// what never reached the kernel, and it goes back in front of the queue
// when the connection fails: a message Send accepted is lost only if the
// peer dies while it sits in the kernel's buffers (ZeroMQ's at-most-once;
// a journal gives more).
func (p *pipe) writeLoop(ctx context.Context, conn transport.Conn) error {
	w := pipeWriter{p: p, conn: conn}
	for {
		batch, wasFull := p.popAll(w.spare())
		if wasFull {
			p.s.pipeWritable(p)
		}
		if len(batch) == 0 {
			w.free = append(w.free, batch)
			if len(w.pending) > 0 {
				if err := w.flush(); err != nil {
					return err
				}
				continue
			}
			if p.s.closing.Load() {
				return p.lingerEnd(conn)
			}
			select {
			case <-p.wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		w.pending = append(w.pending, unflushed{batch: batch})
		for i := range batch {
			it := &batch[i]
			size := it.wireSize()
			if w.bytes > 0 && w.bytes+size > flushBytes {
				if err := w.flushBefore(i); err != nil {
					return err
				}
			}
			var err error
			switch it.kind {
			case itemData:
				err = conn.WriteMsg(it.msg)
			case itemSubscribe:
				err = conn.WriteSubscription(it.msg.Frames[0], true)
			case itemCancel:
				err = conn.WriteSubscription(it.msg.Frames[0], false)
			case itemCommand:
				err = conn.WriteCommand(string(it.msg.Frames[0]), it.msg.Frames[1])
			case itemJournal, itemStream:
				name := jwire.CmdData
				if it.kind == itemStream {
					name = jwire.CmdStream
				}
				err = conn.WriteCommand(name, it.msg.Frames[0])
				if err == nil {
					err = conn.WriteMsg(Msg{Frames: it.msg.Frames[1:]})
				}
			}
			if err != nil {
				return w.fail(err)
			}
			w.bytes += size
			if size > flushBytes {
				// A big message may have gone out directly: settle it now.
				if err := w.flushBefore(i + 1); err != nil {
					return err
				}
			}
		}
	}
}

// lingerEnd ends a closing socket's writing once everything queued has
// been flushed: it half-closes the connection, so the peer reads to the
// end and hangs up, which tells the reader (runConn) that the linger is
// over for this pipe. A transport that cannot half-close counts as
// drained once flushed.
func (p *pipe) lingerEnd(conn transport.Conn) error {
	err := conn.CloseWrite()
	if errors.Is(err, transport.ErrNotSupported) {
		p.markDrained()
		return nil
	}
	return err
}

// unflushed is a batch whose items from index from on have been written
// but not flushed.
type unflushed struct {
	batch []outItem
	from  int
}

// pipeWriter is the writer goroutine's bookkeeping: batches written since
// the last flush, and emptied batches to swap into the pipe again.
type pipeWriter struct {
	p       *pipe
	conn    transport.Conn
	pending []unflushed // oldest first; the last may be the batch in progress
	free    [][]outItem
	bytes   int // written since the last flush
}

func (w *pipeWriter) spare() []outItem {
	if n := len(w.free); n > 0 {
		b := w.free[n-1]
		w.free = w.free[:n-1]
		return b
	}
	return nil
}

// fail puts everything written since the last flush back in front of the
// pipe's queue and returns err.
func (w *pipeWriter) fail(err error) error {
	var items []outItem
	for _, u := range w.pending {
		items = append(items, u.batch[u.from:]...)
	}
	w.p.requeue(items)
	return err
}

// flush flushes the connection and recycles every pending batch.
func (w *pipeWriter) flush() error {
	if err := w.conn.Flush(); err != nil {
		return w.fail(err)
	}
	for _, u := range w.pending {
		w.p.sent.Add(uint64(countData(u.batch[u.from:])))
		clear(u.batch)
		w.free = append(w.free, u.batch[:0])
	}
	clear(w.pending)
	w.pending, w.bytes = w.pending[:0], 0
	return nil
}

// flushBefore flushes while the last pending batch is in progress: its
// items before index i have been written and are settled by the flush;
// the rest stays pending.
func (w *pipeWriter) flushBefore(i int) error {
	last := len(w.pending) - 1
	cur := w.pending[last]
	if err := w.conn.Flush(); err != nil {
		return w.fail(err)
	}
	for _, u := range w.pending[:last] {
		w.p.sent.Add(uint64(countData(u.batch[u.from:])))
		clear(u.batch)
		w.free = append(w.free, u.batch[:0])
	}
	w.p.sent.Add(uint64(countData(cur.batch[cur.from:i])))
	clear(w.pending)
	w.pending = append(w.pending[:0], unflushed{batch: cur.batch, from: i})
	w.bytes = 0
	return nil
}

// wireSize estimates an item's bytes on the wire: its frames with their
// longest headers.
func (it *outItem) wireSize() int {
	if it.kind == itemSubscribe || it.kind == itemCancel {
		return len(it.msg.Frames[0]) + 16
	}
	n := 0
	for _, f := range it.msg.Frames {
		n += len(f) + 9
	}
	return n
}

// The writer flushes before flushBytes are buffered, safely below the
// connection's write buffer (64 KiB for ZMTP), so the buffer never
// flushes on its own and the writer always knows what has left.
const flushBytes = 32 << 10

// countData counts the messages among items (plain and journaled).
func countData(items []outItem) int {
	n := 0
	for _, it := range items {
		if it.kind == itemData || it.kind == itemJournal || it.kind == itemStream {
			n++
		}
	}
	return n
}
