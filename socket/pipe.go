package socket

import (
	"github.com/brookmq/brook/socket/internal/jwire"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/durable"
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
	itemRunMsg           // a journaled stream message described by the JRUN before it: msg is the message
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

	mu sync.Mutex
	// q holds the queued items, oldest first, and more the ones after
	// them once q has reached pipeChunk items: chunks of pipeChunk, the
	// last one being filled. The writer swaps q out whole and the next
	// chunk moves up, so a backlog grows by chunks, never by copying
	// what is queued. more is empty whenever q is.
	q          []outItem
	more       [][]outItem
	freeChunks [][]outItem // emptied chunks for more (at most maxFreeChunks)
	// data counts the data messages the pipe holds: queued, or taken by
	// the writer and not flushed yet (it would queue them again if the
	// connection failed). It is what the HWM bounds, so a pipe never
	// holds more than hwm messages.
	data   int
	jdata  int // journaled messages queued (a feeder's flow control)
	hwm    int
	full   bool // a TrySend was refused since the writer last released room
	jfull  bool // sendJournaled reached the HWM since the last drain
	closed bool
	// The writer's role: who may write to the connection now (wstate),
	// with the connection's writer state (w, nil between connections).
	// A sending goroutine that finds the writer goroutine parked may take
	// the role and write its message itself (inline.go).
	wstate     uint8
	w          *pipeWriter
	inline     uint8         // inline write policy (inline.go)
	direct     bool          // a send may hand a message straight to a direct connection (inline.go)
	parked     time.Time     // when the writer goroutine last parked
	stopWanted bool          // the writer goroutine waits for the role back, to end
	wake       chan struct{} // token for the writer goroutine: the role is its again

	// The gate (pipegate.go): fast is the writer state of a connection
	// whose gate is open, so a send hands its message to the peer's
	// queue under that queue's lock alone; set under mu, read without it.
	// gateOpen says the gate is open, gatedLeft that gated messages may
	// still wait in the connection (both under mu).
	fast      atomic.Pointer[pipeWriter]
	gateOpen  bool
	gatedLeft bool

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
		inline:   s.inlinePolicy(),
		direct:   s.jnl == nil,
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
	if w := p.fast.Load(); w != nil && p.sendGated(w, m) {
		return true
	}
	p.mu.Lock()
	gated := p.closeGateLocked()
	if p.closed || (p.hwm > 0 && p.data+gated >= p.hwm) {
		p.full = true
		p.mu.Unlock()
		return false
	}
	if p.handsOver(m) {
		if c := p.w.credit; c != nil {
			// Counted, under the lock that checked the HWM, until the
			// peer takes it: the connection's queue is inside the HWM.
			p.data++
			c.addLocked(1)
		}
		p.openGateLocked()
		p.mu.Unlock()
		return true
	}
	p.pushLocked(outItem{kind: itemData, msg: m})
	p.data++
	if p.takesInline(m) {
		p.wstate = wInline
		p.s.claimInline(p)
	} else {
		p.wakeLocked()
	}
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
	p.pushLocked(outItem{kind: itemCommand, msg: Msg{Frames: [][]byte{[]byte(name), data}}})
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
	p.pushLocked(outItem{kind: kind, msg: Msg{Frames: frames}})
	p.journaledLocked(1)
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
		p.pushLocked(outItem{kind: kind, msg: Msg{Frames: frames}})
	}
	p.journaledLocked(len(msgs))
	return true
}

// journaledLocked counts n journaled messages just queued and wakes the
// writer; p.mu must be held.
func (p *pipe) journaledLocked(n int) {
	p.jdata += n
	if p.hwm > 0 && p.jdata >= p.hwm {
		p.jfull = true // the writer's next pass reports room (pipeWritable)
	}
	p.wakeLocked()
}

// sendStreamRun queues a JRUN (its encoded data) and the stream messages
// it describes, under one lock; like sendJournaled, the high-water mark
// does not refuse them. It reports false when the pipe is closed.
func (p *pipe) sendStreamRun(run []byte, msgs [][][]byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.pushLocked(outItem{kind: itemCommand, msg: Msg{Frames: [][]byte{runName, run}}})
	for _, frames := range msgs {
		p.pushLocked(outItem{kind: itemRunMsg, msg: Msg{Frames: frames}})
	}
	p.journaledLocked(len(msgs))
	return true
}

// runName is the JRUN command's name as a queued command's first frame.
var runName = []byte(jwire.CmdRun)

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
		p.pushLocked(subItem(kind, topic))
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
	p.flattenLocked()
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

// States of the writer's role (pipe.wstate).
const (
	wNone   = iota // no connection: nobody writes
	wIdle          // the writer goroutine is parked: the role is free
	wBusy          // the writer goroutine holds the role
	wInline        // a sending goroutine holds the role
)

// wakeLocked hands a free role to the writer goroutine, waking it. p.mu
// must be held.
func (p *pipe) wakeLocked() {
	if p.gateOpen {
		p.closeGateLocked() // the writer goes first now
	}
	if p.wstate == wIdle {
		p.wstate = wBusy
		p.token()
	}
}

// token wakes the writer goroutine (the wake channel holds at most one
// token; a stale one only makes it look again).
func (p *pipe) token() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// nudge wakes the writer (closing, linger).
func (p *pipe) nudge() {
	p.mu.Lock()
	p.wakeLocked()
	p.mu.Unlock()
}

// popAll takes every queued item, leaving spare (emptied, its capacity
// reused) as the new queue: a swap, no copying. The data messages taken
// still count against the HWM until the writer has flushed them
// (release). It reports whether the journal's queue was full since the
// last call (so its feeders must be told the pipe is writable again).
func (p *pipe) popAll(spare []outItem) ([]outItem, bool) {
	p.mu.Lock()
	out := p.q
	if len(p.more) > 0 {
		// A backlog: the writer takes its oldest chunk, the next moves up.
		p.q = p.more[0]
		n := copy(p.more, p.more[1:])
		p.more[n] = nil
		p.more = p.more[:n]
		if len(p.freeChunks) < maxFreeChunks && cap(spare) >= pipeChunk {
			p.freeChunks = append(p.freeChunks, spare[:0])
		}
	} else {
		p.q = spare[:0]
	}
	if p.jdata > 0 {
		p.jdata -= countJournaled(out)
	}
	wasFull := p.jfull && len(out) > 0 && (p.hwm <= 0 || p.jdata < p.hwm)
	if wasFull {
		p.jfull = false
	}
	p.mu.Unlock()
	return out, wasFull
}

// pipeChunk is the number of items a pipe's queue grows by once it holds
// that many: a backlog is a list of chunks, not one slice copied as it
// grows.
const pipeChunk = 256

// maxFreeChunks bounds the emptied chunks a pipe keeps for its backlog: a
// sender ahead of its writer fills a few chunks while the writer holds as
// many unflushed, and with a single spare it allocated most of them anew.
const maxFreeChunks = 4

// pushLocked queues it after everything queued. p.mu must be held.
func (p *pipe) pushLocked(it outItem) {
	if p.gateOpen {
		p.closeGateLocked() // no send may overtake it
	}
	if n := len(p.more); n > 0 {
		if last := p.more[n-1]; len(last) < cap(last) {
			p.more[n-1] = append(last, it)
			return
		}
	} else if len(p.q) < cap(p.q) || cap(p.q) < pipeChunk {
		p.q = append(p.q, it)
		return
	}
	var c []outItem
	if n := len(p.freeChunks); n > 0 {
		c = p.freeChunks[n-1]
		p.freeChunks[n-1] = nil
		p.freeChunks = p.freeChunks[:n-1]
	}
	if cap(c) < pipeChunk {
		c = make([]outItem, 0, pipeChunk)
	}
	p.more = append(p.more, append(c, it))
}

// flattenLocked moves every chunk of the backlog into q, for the few
// operations that rework the whole queue. p.mu must be held.
func (p *pipe) flattenLocked() {
	for _, c := range p.more {
		p.q = append(p.q, c...)
	}
	clear(p.more)
	p.more = p.more[:0]
}

// countJournaled counts the journaled messages among items.
func countJournaled(items []outItem) int {
	n := 0
	for _, it := range items {
		if it.kind == itemJournal || it.kind == itemStream || it.kind == itemRunMsg {
			n++
		}
	}
	return n
}

// release gives back the room of n data messages the writer has flushed.
// It reports whether a sender was refused for a full pipe since room was
// last given back (so the pattern must be told the pipe is writable).
func (p *pipe) release(n int) bool { return p.releaseTo(n, p.hwm-1) }

// releaseFlushed is release for the writer's flushes: a sender refused
// for a full pipe is told it is writable only once the pipe has drained
// to its wake level (wakeLevel), not as soon as one message has left, so
// that a sender outrunning its writer (large messages, one flush each)
// is woken once per many messages rather than once per message. The
// room itself is given back at once: TrySend sees it.
func (p *pipe) releaseFlushed(n int) bool { return p.releaseTo(n, p.wakeLevel()) }

// wakeLevel is how many data messages a full pipe may still hold when its
// writer's flushes report it writable: three quarters of the HWM, less
// one, on a socket without a journal (the journal's feeders pace
// themselves on the first room); any room at all otherwise.
func (p *pipe) wakeLevel() int {
	if !p.direct || p.hwm < 8 {
		return p.hwm - 1
	}
	return p.hwm - p.hwm/4
}

// releaseTo gives back the room of n data messages and reports whether a
// refused sender must be told the pipe is writable: it was refused, and
// the pipe holds at most level messages now (or has no HWM).
func (p *pipe) releaseTo(n, level int) bool {
	if n == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.releaseLocked(n, level)
}

// releaseLocked is releaseTo with p.mu held.
func (p *pipe) releaseLocked(n, level int) bool {
	if n == 0 || p.closed {
		return false // close forgot every message the pipe held
	}
	p.data -= n
	wasFull := p.full && (p.hwm <= 0 || p.data <= level)
	if wasFull {
		p.full = false
	}
	return wasFull
}

// requeue puts data items that could not be written back in front of the
// queue, in order; they never stopped counting against the HWM. Unsent
// subscriptions are dropped because the pattern resends the full set on
// the next connection; unsent journaled messages and commands too,
// because the journal redelivers what a lost connection had in flight and
// speaks afresh on the next one.
func (p *pipe) requeue(items []outItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]outItem, 0, len(items)+len(p.q))
	for _, it := range items {
		if it.kind == itemData {
			all = append(all, it)
		}
	}
	p.q = append(all, p.q...)
}

// queued is the number of data messages the pipe holds (queued, or being
// written and not flushed yet).
func (p *pipe) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data + p.gatedLocked()
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
	n := p.data + p.closeGateLocked()
	p.q, p.more, p.freeChunks, p.data = nil, nil, nil, 0
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
