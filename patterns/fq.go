package patterns

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/transport"
)

// fairQueue is the inbound queue of a socket: messages from all pipes in
// arrival order, each pipe holding at most hwm of them at once, so one
// busy peer cannot starve the others (fair queuing) and a slow
// application pushes back on every peer's reader. It is safe for
// concurrent use.
//
// The messages sit in a chain of fixed-size blocks (fqBlock). Readers
// write at the tail under mu; a consumer takes, under mu, the count of
// what has been written since it last looked (its claim) and then reads
// that many entries from the head under cmu alone, so the two sides meet
// on one lock per batch rather than per message (and a reader that hands
// over a batch, with PushBatch, takes the lock once for all of it). A
// block the consumer has read to the end goes back to a free list for the
// readers to reuse: a backlog costs no growth copies, and the steady state
// allocates nothing. A pipe's allowance is returned message by message as
// the application takes them, so the bound is exact: a pipe never has
// more than hwm messages in the queue, claimed by the consumer or not.
type fairQueue struct {
	mu      sync.Mutex // guards the tail side, pipes, closed
	hwm     int
	tail    *fqBlock // the block readers write to
	tn      int      // entries written in tail
	tcap    int      // entries tail holds (0 before the first block)
	pending int      // entries written and not yet claimed by the consumer
	// hasPending mirrors pending > 0, set and cleared under mu and read
	// without it, so a consumer passes over an empty tail, and decides to
	// wait, without mu. A writer sets it before it looks at waiters, a
	// consumer adds itself to waiters before it looks at hasPending: one
	// of them sees the other, so no wake-up is lost.
	hasPending atomic.Bool

	free    *fqBlock // emptied blocks for the tail, chained by next
	nfree   int
	pipes   map[uint64]*fqPipe
	waiters atomic.Int32  // Pops waiting for a token (avail)
	avail   chan struct{} // one token per wake-up of a Pop waiter
	closed  bool
	shut    atomic.Bool // closed, read by Pop without mu
	done    chan struct{}
	// srcs lists the sources a consumer reads itself (AttachSource),
	// copied on write under mu and read without it; rr turns the pipe
	// a consumer pulls from first.
	srcs atomic.Pointer[[]fqSource]
	rr   atomic.Uint32

	cmu     sync.Mutex // guards the head side: the consumer's
	head    *fqBlock   // the block the consumer reads from
	hn      int        // entries read in head
	claimed int        // entries claimed and not yet read
	spent   *fqBlock   // blocks read to the end, for the free list at the next claim
	// local is a batch a consumer took straight from the only attached
	// source (takeLocal), served from ln on before anything in the
	// blocks; lst is its pipe's state, whose queued counts what is left.
	local []Msg
	ln    int
	lst   *fqPipe
	// popped counts the messages Pop has returned (Popped).
	popped uint64
}

// fqBlockSize is the number of entries in one block of the queue.
const fqBlockSize = 128

// fqFirstBlockSize is the number of entries in a queue's first block.
// Most sockets of a large fan-in (thousands of DEALERs or SUBs) receive a
// little at a time; they keep 1 KiB of queue rather than 8. A queue that
// fills its first block goes on in blocks of fqBlockSize.
const fqFirstBlockSize = 16

// fqMaxFree bounds the emptied blocks kept for reuse (about 640 KiB), so
// the memory of a burst is given back once it has passed.
const fqMaxFree = 128

// fqBlock is one link of the queue's chain of entries.
type fqBlock struct {
	e    []fqEntry // fqBlockSize entries, or fqFirstBlockSize for the first
	next *fqBlock  // the block after it, set (under mu) once this one is full
}

// fqEntry holds two pointers (its pipe's state and the frames), keeping
// the write-barrier work of queueing it small, and the message's tag.
type fqEntry struct {
	st  *fqPipe
	msg Msg
	tag Tag
}

// fqPipe is one pipe's share of the queue. queued is changed by the
// pipe's reader (under mu) and by consumers (without it), so it is
// atomic; blocked and queued together make sure a reader waiting for room
// is always woken: it sets blocked before it checks queued, a consumer
// decrements queued before it checks blocked.
type fqPipe struct {
	p       Pipe
	queued  atomic.Int64  // messages of this pipe in the queue
	blocked atomic.Bool   // its reader waits for room
	room    chan struct{} // token: room freed for this pipe's reader

	// direct is set, once, when a source is first attached for the pipe
	// (under mu), so pipes that never have one carry only the pointer.
	direct atomic.Pointer[fqDirect]
}

// fqDirect is a pipe's source, if attached, and the messages a pull
// takes from it: whoever pulls holds rmu from the take until they are
// queued, so they keep their order. rmu comes before mu.
type fqDirect struct {
	rmu sync.Mutex
	src Source
	buf []Msg
}

// fqSource is one attached source, with its pipe's state.
type fqSource struct {
	st  *fqPipe
	src Source
}

// newFairQueue returns an inbound queue with a per-pipe bound of hwm
// messages (hwm <= 0: unbounded).
//
// Its first block is allocated by the first message, not here: until then
// tail and head are nil, and tn == tcap says the (absent) tail is full.
func newFairQueue(hwm int) *fairQueue {
	return &fairQueue{
		hwm:   hwm,
		pipes: make(map[uint64]*fqPipe),
		avail: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// appendLocked writes e at the tail, starting a block when the tail is
// full. mu must be held.
func (q *fairQueue) appendLocked(e fqEntry) {
	if q.tn == q.tcap {
		q.growLocked()
	}
	q.tail.e[q.tn] = e
	q.tn++
	q.addPendingLocked(1)
}

// growLocked chains a block (from the free list if it has one) after the
// full tail. mu must be held.
//
// The queue's first block (fqFirstBlockSize entries) becomes the head as
// well. The consumer reads head only after claiming entries, which takes
// mu after this write, and no reader writes head again.
func (q *fairQueue) growLocked() {
	if q.tail == nil {
		b := &fqBlock{e: make([]fqEntry, fqFirstBlockSize)}
		q.head, q.tail, q.tn, q.tcap = b, b, 0, len(b.e)
		return
	}
	b := q.free
	if b != nil {
		q.free, b.next = b.next, nil
		q.nfree--
	} else {
		b = &fqBlock{e: make([]fqEntry, fqBlockSize)}
	}
	q.tail.next = b
	q.tail, q.tn, q.tcap = b, 0, len(b.e)
}

func (q *fairQueue) state(p Pipe) *fqPipe {
	st := q.pipes[p.ID()]
	if st == nil {
		st = &fqPipe{p: p, room: make(chan struct{}, 1)}
		q.pipes[p.ID()] = st
	}
	return st
}

// Remove forgets p's accounting; messages it already queued stay.
func (q *fairQueue) Remove(p Pipe) {
	q.mu.Lock()
	delete(q.pipes, p.ID())
	q.mu.Unlock()
}

// roomFor is how many more messages st may queue (MaxInt: no bound).
func (q *fairQueue) roomFor(st *fqPipe) int {
	if q.hwm <= 0 {
		return math.MaxInt
	}
	return q.hwm - int(st.queued.Load())
}

// Push appends m from p with its tag, waiting while p has hwm messages
// queued, until ctx ends or the queue is closed. A tagged message does
// not wait: the socket bounds tagged messages itself (see Tag).
func (q *fairQueue) Push(ctx context.Context, p Pipe, m Msg, tag Tag) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return transport.ErrClosed
		}
		st := q.state(p)
		if tag != 0 || q.roomFor(st) > 0 {
			st.queued.Add(1)
			q.appendLocked(fqEntry{st: st, msg: m, tag: tag})
			q.unlockAndSignal()
			return nil
		}
		q.mu.Unlock()
		if err := q.waitRoom(ctx, st); err != nil {
			return err
		}
	}
}

// Room waits until p may queue at least one more message, and returns how
// many it may queue now (math.MaxInt without a bound). It fails with
// ctx's error, or transport.ErrClosed once the queue is closed.
func (q *fairQueue) Room(ctx context.Context, p Pipe) (int, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return 0, transport.ErrClosed
		}
		st := q.state(p)
		q.mu.Unlock()
		if n := q.roomFor(st); n > 0 {
			return n, nil
		}
		if err := q.waitRoom(ctx, st); err != nil {
			return 0, err
		}
	}
}

// PushBatch appends untagged messages from p without waiting: the caller
// asked Room first and brings no more than it allowed. It fails with
// transport.ErrClosed once the queue is closed.
func (q *fairQueue) PushBatch(p Pipe, msgs []Msg) error { return q.PushTagged(p, msgs, nil) }

// PushTagged appends messages from p with their tags (tags[i] for
// msgs[i]; nil tags: all untagged) without waiting, as Push does for a
// tagged message: the caller bounds them. It fails with
// transport.ErrClosed once the queue is closed.
func (q *fairQueue) PushTagged(p Pipe, msgs []Msg, tags []Tag) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return transport.ErrClosed
	}
	q.appendRunLocked(q.state(p), msgs, tags)
	q.unlockAndSignal()
	return nil
}

// appendRunLocked appends msgs from st with their tags (nil: untagged),
// filling each block as far as it goes in one run. mu must be held.
func (q *fairQueue) appendRunLocked(st *fqPipe, msgs []Msg, tags []Tag) {
	st.queued.Add(int64(len(msgs)))
	for i := 0; i < len(msgs); {
		if q.tn == q.tcap {
			q.growLocked()
		}
		run := q.tail.e[q.tn:min(q.tcap, q.tn+len(msgs)-i)]
		for j := range run {
			var tag Tag
			if tags != nil {
				tag = tags[i+j]
			}
			run[j] = fqEntry{st: st, msg: msgs[i+j], tag: tag}
		}
		q.tn += len(run)
		i += len(run)
	}
	q.addPendingLocked(len(msgs))
}

// addPendingLocked counts n entries written at the tail. mu must be held.
func (q *fairQueue) addPendingLocked(n int) {
	if q.pending == 0 && n > 0 {
		q.hasPending.Store(true)
	}
	q.pending += n
}

// unlockAndSignal releases mu and wakes a waiting consumer, if any.
func (q *fairQueue) unlockAndSignal() {
	signal := q.waiters.Load() > 0
	q.mu.Unlock()
	if signal {
		q.signal()
	}
}

// waitRoom waits until st's reader has room again (or might: the caller
// checks again), ctx ends or the queue closes.
func (q *fairQueue) waitRoom(ctx context.Context, st *fqPipe) error {
	st.blocked.Store(true)
	if q.roomFor(st) > 0 {
		// A consumer took one meanwhile; if it saw blocked too, it left a
		// token that a later wait takes and checks again.
		st.blocked.Store(false)
		return nil
	}
	select {
	case <-st.room:
		return nil
	case <-ctx.Done():
		st.blocked.Store(false)
		return ctx.Err()
	case <-q.done:
		return transport.ErrClosed
	}
}

// taken gives back the room of one message the application took.
func (q *fairQueue) taken(st *fqPipe) {
	left := st.queued.Add(-1)
	if st.blocked.Load() && (q.hwm <= 0 || left < int64(q.hwm)) && st.blocked.CompareAndSwap(true, false) {
		select {
		case st.room <- struct{}{}:
		default:
		}
	}
}

func (q *fairQueue) signal() {
	select {
	case q.avail <- struct{}{}:
	default:
	}
}

// claimLocked makes everything written so far the consumer's to read,
// and hands the blocks it has read to the end to the free list. Both
// locks must be held.
func (q *fairQueue) claimLocked() {
	q.claimed += q.pending
	q.pending = 0
	q.hasPending.Store(false)
	for q.spent != nil {
		b := q.spent
		q.spent, b.next = b.next, nil
		if q.nfree < fqMaxFree && len(b.e) == fqBlockSize { // not the small first block
			b.next, q.free = q.free, b
			q.nfree++
		}
	}
}

// claim makes what readers have written since the last claim the
// consumer's to read, and reports false when there is nothing. It wakes
// another waiting consumer when it claims more than one message, so a
// backlog is shared. cmu must be held, with the claim used up.
func (q *fairQueue) claim() bool {
	if !q.hasPending.Load() {
		return false // a write after this is seen before Pop waits
	}
	q.mu.Lock()
	if q.pending == 0 {
		q.mu.Unlock()
		return false
	}
	q.claimLocked()
	more := q.waiters.Load() > 0 && q.claimed > 1
	q.mu.Unlock()
	if more {
		q.signal()
	}
	return true
}

// next takes the oldest claimed entry, reading it in place rather than
// copying it out whole, and returns it with its pipe's state (nil for an
// entry with no pipe behind it), whose room the caller gives back.
// cmu must be held, with claimed > 0.
func (q *fairQueue) next() (Received, *fqPipe) {
	if q.hn == len(q.head.e) {
		q.nextBlock()
	}
	e := &q.head.e[q.hn]
	r := Received{Msg: e.msg, Tag: e.tag}
	st := e.st
	*e = fqEntry{} // let the frames go once the caller drops them
	q.hn++
	q.claimed--
	return r, st
}

// nextBlock moves the head on when it has been read to the end; the claim
// goes on in the next block, which was chained before its entries were
// written. cmu must be held.
func (q *fairQueue) nextBlock() {
	b := q.head
	q.head, q.hn = b.next, 0
	b.next, q.spent = q.spent, b
}

// Pop waits for the oldest message and returns it with the pipe it came
// from and its tag. Messages queued before Close are still returned;
// after that, Pop fails with transport.ErrClosed.
func (q *fairQueue) Pop(ctx context.Context) (Received, error) {
	for {
		q.cmu.Lock()
		if q.ln < len(q.local) {
			return q.popLocal(), nil
		}
		if q.claimed > 0 || q.claim() {
			r, st := q.next()
			q.popped++
			q.cmu.Unlock()
			// The room goes back before Pop returns, as exactly as
			// before, but outside cmu, so other consumers need not wait.
			if st != nil {
				r.Pipe = st.p
				q.taken(st)
			}
			if q.shut.Load() {
				q.handOn()
			}
			return r, nil
		}
		srcs := q.sources()
		if len(srcs) == 1 && srcs[0].src.Ready() && q.takeLocal(srcs[0].st) {
			return q.popLocal(), nil
		}
		q.cmu.Unlock()
		if len(srcs) > 1 && q.pullAny(srcs) {
			continue
		}
		if q.hasPending.Load() {
			continue
		}
		if q.shut.Load() {
			// Closed: the tail is drained once hasPending says so after
			// shut, as Close sets shut under mu, after the last write.
			if q.hasPending.Load() {
				continue
			}
			q.handOn()
			return Received{}, transport.ErrClosed
		}
		q.waiters.Add(1)
		if q.hasPending.Load() || q.shut.Load() {
			// Written or closed meanwhile: the writer (or Close) may not
			// have seen this waiter.
			q.waiters.Add(-1)
			continue
		}
		var err error
		if !arm(srcs) {
			err = q.wait(ctx)
		}
		left := q.waiters.Add(-1)
		pass := err != nil && left > 0 && q.hasPending.Load()
		if err == nil && len(srcs) == 1 {
			// Take what woke us before disarming, so the last disarm
			// finds nothing to wake the reader goroutine for.
			q.cmu.Lock()
			if q.ln == len(q.local) && q.takeLocal(srcs[0].st) {
				r := q.popLocal()
				disarm(srcs)
				return r, nil
			}
			q.cmu.Unlock()
		} else if err == nil && len(srcs) > 0 {
			q.pullAny(srcs)
		}
		disarm(srcs)
		if err != nil {
			if pass {
				// Pass on a token we may have been sent.
				q.signal()
			}
			return Received{}, err
		}
	}
}

// takeLocal takes what st's source holds, up to st's room, as the
// consumer's local batch: a Recv of a socket whose only source is one
// inproc connection then gets each message with one copy, out of the
// slice the connection handed over, rather than through the blocks. It
// reports whether it took any. cmu must be held, with the local batch
// used up.
//
// The batch keeps st's messages in order: it is taken only while none of
// them is in the blocks (st.queued is zero: the local batch is empty and
// anything in the blocks counts there until served), and under rmu, so
// the reader goroutine's Pull moves only what arrives later, served
// after it. Its messages count in st.queued until served, as in the
// blocks, so the pipe's bound holds.
func (q *fairQueue) takeLocal(st *fqPipe) bool {
	d := directOf(st)
	if d == nil || q.shut.Load() {
		return false
	}
	d.rmu.Lock()
	src := d.src
	if src == nil || st.queued.Load() != 0 {
		d.rmu.Unlock()
		return false
	}
	max := fqPullMax
	if q.hwm > 0 {
		max = min(max, q.hwm)
	}
	msgs, credited, _ := src.TakeReady(q.local[:0], max)
	st.queued.Add(int64(len(msgs)))
	src.Settle(credited) // under rmu: Settle must not overlap TakeReady
	d.rmu.Unlock()
	q.local, q.ln, q.lst = msgs, 0, st
	if len(msgs) > 1 {
		// Another consumer may wait: it shares the batch, as a claim
		// of a backlog wakes it (claim).
		if q.waiters.Load() > 0 {
			q.signal()
		}
	}
	return len(msgs) > 0
}

// popLocal serves the next message of the local batch and unlocks cmu,
// which must be held, with the batch not used up.
func (q *fairQueue) popLocal() Received {
	m := &q.local[q.ln]
	r := Received{Msg: *m, Pipe: q.lst.p}
	*m = Msg{} // let the frames go once the caller drops them
	q.ln++
	st := q.lst
	if q.ln == len(q.local) {
		q.local, q.ln = q.local[:0], 0
	}
	q.popped++
	q.cmu.Unlock()
	q.taken(st)
	if q.shut.Load() {
		q.handOn()
	}
	return r
}

// wait waits for a token (q.signal) or the end of ctx. Close leaves a
// token too, which each waiter that finds the queue closed and drained
// hands on, so one channel is watched rather than two (without a ctx
// that can end, a plain receive instead of a select).
func (q *fairQueue) wait(ctx context.Context) error {
	done := ctx.Done()
	if done == nil {
		<-q.avail
		return nil
	}
	select {
	case <-q.avail:
		return nil
	case <-done:
		return ctx.Err()
	}
}

// handOn passes Close's token on to the next waiting Pop, if any: once
// the queue is closed, every Pop that ends hands it on, so each waiter
// is woken in turn to drain what is left or fail.
func (q *fairQueue) handOn() {
	if q.waiters.Load() > 0 {
		q.signal()
	}
}

// Len is the number of queued messages.
// Popped is how many messages Pop has returned so far: a message is
// counted as it leaves the queue, before Pop returns it. Only REP asks
// (reqrep.go), so the count is a plain one under cmu, not an atomic
// every consumer pays for.
func (q *fairQueue) Popped() uint64 {
	q.cmu.Lock()
	defer q.cmu.Unlock()
	return q.popped
}

func (q *fairQueue) Len() int {
	q.cmu.Lock()
	defer q.cmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending + q.claimed + len(q.local) - q.ln
}

// Close wakes every waiter; Pop still drains what is queued, Push fails.
func (q *fairQueue) Close() {
	q.mu.Lock()
	closing := !q.closed
	if closing {
		q.closed = true
		q.shut.Store(true)
		close(q.done)
	}
	q.mu.Unlock()
	if closing {
		q.signal() // for a waiting Pop, which hands it on (see wait)
	}
}

// Inject appends m from p without waiting, past the high-water mark if
// need be: for the few messages a pattern makes itself (XPUB's
// cancellations when a subscriber leaves), which must not be lost or
// block. It reports false when the queue is closed.
func (q *fairQueue) Inject(p Pipe, m Msg) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	st := q.state(p)
	st.queued.Add(1)
	q.appendLocked(fqEntry{st: st, msg: m})
	q.unlockAndSignal()
	return true
}

// Direct reading of sources (SourceInbound): a consumer that finds the
// queue empty pulls from the attached sources itself, and one that waits
// arms them all, so a write to any of them wakes it (q.signal) without
// the pipe's reader goroutine in between. While no consumer waits, the
// reader goroutines pull what arrives (Pull), so a peer's messages still
// reach the queue, up to its hwm, when the application is busy or does
// not read.

// fqPullMax bounds the messages one pull moves. It is above what an
// inproc connection holds (inproc.QueueCapacity), so a pull with room
// for them takes all that waits, which the connection hands over by
// swapping slices, where taking a prefix copies it and moves the rest
// down; the moves cost more than the pull itself with a full queue.
const fqPullMax = 4096

// AttachSource lets consumers read src, p's connection, themselves. It
// reports false once the queue is closed.
func (q *fairQueue) AttachSource(p Pipe, src Source) bool {
	src.SetNotify(q.signal)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	st := q.state(p)
	d := st.direct.Load()
	if d == nil {
		d = new(fqDirect)
		st.direct.Store(d)
	}
	q.mu.Unlock()
	d.rmu.Lock()
	d.src = src
	d.rmu.Unlock()
	q.mu.Lock()
	old := q.sources()
	list := make([]fqSource, 0, len(old)+1)
	for _, e := range old {
		if e.st != st {
			list = append(list, e)
		}
	}
	list = append(list, fqSource{st: st, src: src})
	q.srcs.Store(&list)
	q.mu.Unlock()
	return true
}

// DetachSource ends AttachSource for p: once it returns, no consumer
// reads p's source.
func (q *fairQueue) DetachSource(p Pipe) {
	var st *fqPipe
	q.mu.Lock()
	old := q.sources()
	list := make([]fqSource, 0, len(old))
	for _, e := range old {
		if e.st.p.ID() == p.ID() {
			st = e.st
			continue
		}
		list = append(list, e)
	}
	q.srcs.Store(&list)
	q.mu.Unlock()
	if d := directOf(st); d != nil {
		d.rmu.Lock()
		d.src, d.buf = nil, nil
		d.rmu.Unlock()
	}
}

// Pull moves what p's source holds into the queue, as much as p has room
// for, and returns how many messages it moved (see SourceInbound).
func (q *fairQueue) Pull(p Pipe) (int, error) {
	q.mu.Lock()
	st := q.pipes[p.ID()]
	q.mu.Unlock()
	if st == nil {
		return 0, nil
	}
	return q.pull(st)
}

// directOf returns st's direct state (nil: no source was ever attached).
func directOf(st *fqPipe) *fqDirect {
	if st == nil {
		return nil
	}
	return st.direct.Load()
}

// sources returns the attached sources.
func (q *fairQueue) sources() []fqSource {
	if l := q.srcs.Load(); l != nil {
		return *l
	}
	return nil
}

// pull moves what st's source holds into the queue, up to st's room.
func (q *fairQueue) pull(st *fqPipe) (int, error) {
	d := directOf(st)
	if d == nil {
		return 0, nil
	}
	d.rmu.Lock()
	defer d.rmu.Unlock()
	src := d.src
	if src == nil {
		return 0, nil
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, transport.ErrClosed
	}
	room := q.roomFor(st)
	if room <= 0 {
		q.mu.Unlock()
		return 0, nil
	}
	msgs, credited, err := src.TakeReady(d.buf[:0], min(room, fqPullMax))
	if len(msgs) > 0 {
		q.appendRunLocked(st, msgs, nil)
		q.unlockAndSignal()
	} else {
		q.mu.Unlock()
	}
	src.Settle(credited)
	n := len(msgs)
	clear(msgs)
	d.buf = msgs[:0]
	return n, err
}

// pullAny pulls from the first of srcs that has something (passing over
// those whose Ready reports nothing, without their locks), starting at a
// different one each time, and reports whether it moved any message.
func (q *fairQueue) pullAny(srcs []fqSource) bool {
	start := int(q.rr.Add(1))
	for i := range srcs {
		e := srcs[(start+i)%len(srcs)]
		if !e.src.Ready() {
			continue
		}
		if n, _ := q.pull(e.st); n > 0 {
			return true
		}
	}
	return false
}

// arm arms every source for a consumer about to wait, and reports
// whether one already holds a message.
func arm(srcs []fqSource) bool {
	ready := false
	for _, e := range srcs {
		if e.src.Arm() {
			ready = true
		}
	}
	return ready
}

// disarm ends arm.
func disarm(srcs []fqSource) {
	for _, e := range srcs {
		e.src.Disarm()
	}
}
