package socket

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// receiver is the receiving side of the journal profile, on every socket
// that receives (PULL, DEALER, ROUTER, SUB, XSUB): it drops duplicates of
// journaled messages, hands the others to the pattern with a tag that
// finds their delivery again, and sends acknowledgements back in batches.
type receiver struct {
	s      *Socket
	store  ackStore // nil: duplicates are suppressed in memory only
	stream bool     // SUB, XSUB: positions in publishers' streams, no acks sent
	start  Start    // where a stream starts without a position
	commit time.Duration

	mu      sync.Mutex
	senders map[durable.JournalID]*rsender
	live    deliveries // handed to the pattern, not yet received
	round   *ackRound  // acknowledgements waiting for the next flush
	closed  bool
	ctr     recvCounters

	work chan struct{} // a token when round has something
	done chan struct{}

	window   int           // a stream connection's bound on messages not yet taken
	quit     chan struct{} // closed when the socket starts closing
	quitOnce sync.Once
}

// rsender is what a receiver knows of one journaled sender.
type rsender struct {
	id      durable.JournalID
	stream  bool                   // a publisher's stream (positions), not a queue (acks)
	known   bool                   // a position exists (stored, or from this run)
	acked   ackSet                 // acknowledged here, or below the sender's floor
	pending map[uint64]*inDelivery // queue: held, unacknowledged
	// A stream's offsets arrive in order: every offset below recvHigh
	// was received (acknowledged, or held) or passed over, so one below
	// it that comes again (a resumption) is a duplicate. held counts
	// those the application has not acknowledged.
	recvHigh uint64
	held     int
	pipe     *pipe // the latest connection to it: acknowledgements go there
	acks     []jwire.Range
	nacks    []nackReq
	dirty    bool // acknowledged since the last store commit

	// AckSync: acknowledgements whose senders' confirmation (JDONE) is
	// awaited: the next batch to send, and those sent, by sequence.
	seq        uint64
	confirming *confirmBatch
	confirmOut map[uint64]*confirmBatch
}

// confirmBatch is a JACK whose acknowledgements AckSync callers wait to
// see durable at the sender.
type confirmBatch struct {
	ranges  []jwire.Range
	waiters []*confirmWait
}

// confirmWait is one AckSync caller.
type confirmWait struct {
	done chan struct{}
	err  error
}

// finish releases every waiter of b with err.
func (b *confirmBatch) finish(err error) {
	for _, w := range b.waiters {
		w.err = err
		close(w.done)
	}
	b.waiters = nil
}

type nackReq struct {
	delay time.Duration
	off   uint64
}

// inDelivery is one journaled message between its arrival and its
// acknowledgement.
type inDelivery struct {
	tag     patterns.Tag // its slot in receiver.live, until taken
	r       *receiver
	snd     *rsender
	p       *pipe      // the connection it came on
	cs      *connState // its state (a stream's bound)
	off     uint64
	epoch   uint64
	count   uint32
	ts      int64
	settled bool
	given   bool // handed to the application
	revoked bool // acknowledged by another receiver before the application took it
}

// ackRound is one batch of acknowledgements: done is closed once they are
// durable in the store (if any) and handed to their connections.
type ackRound struct {
	done chan struct{}
	err  error
}

type recvCounters struct {
	received, duplicates, acked, nacked, storeOverflow, gaps uint64
}

func newReceiver(s *Socket, store ackStore, stream bool, start Start, commit time.Duration) *receiver {
	r := &receiver{
		window:  journalWindow(s.opts.recvHWM),
		quit:    make(chan struct{}),
		s:       s,
		store:   store,
		stream:  stream,
		start:   start,
		commit:  commit,
		senders: make(map[durable.JournalID]*rsender),
		round:   &ackRound{done: make(chan struct{})},
		work:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go r.flushLoop()
	return r
}

// connState is the journal profile's state of one connection's reader.
type connState struct {
	hello   jwire.Hello // the peer's
	data    jwire.Data  // a queue's JDATA for the next message
	hasData bool
	started bool     // a stream: JSTART arrived
	snd     *rsender // the sender, once looked up

	// A stream's messages received on this connection but not yet taken
	// by the application (guarded by receiver.mu). A stream has no
	// acknowledgement window at its publisher, so the reader stops at
	// receiver.window of them: TCP then slows the feeder, and a replay of
	// millions of messages to a slow application holds a window in
	// memory, not the backlog.
	live    int
	waiting bool
	room    chan struct{}

	// A stream (readStream): its reader, and the JSTREAMs (or the
	// records of a JRUN) read ahead of their messages, in order, each
	// with the number of its message on the connection. Used by the
	// reader only.
	reader transport.CommandBatcher
	ahead  []streamAhead
	runBuf []jwire.Stream
}

// streamAhead is a JSTREAM whose message is in the batch being read.
type streamAhead struct {
	at   uint64 // the message's number on the connection (MsgsRead)
	data jwire.Data
}

// receive decides what to do with a queue's journaled message m that
// arrived on p after its JDATA: a duplicate is dropped (one already
// acknowledged is acknowledged again, so its sender stops sending it); any
// other gets a tag for the pattern. (A stream's messages go through
// receiveStream.)
func (r *receiver) receive(p *pipe, cs *connState, m Msg) (patterns.Tag, bool, error) {
	d := cs.data
	cs.hasData = false
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, false, ErrClosed
	}
	snd := cs.snd
	if snd == nil {
		var err error
		if snd, err = r.senderLocked(cs.hello.Journal); err != nil {
			return 0, false, err
		}
		cs.snd = snd // senders are never forgotten
	}
	snd.pipe = p
	snd.known = true
	r.ctr.received++
	{
		snd.acked.raise(d.Floor)
		if snd.acked.has(d.Offset) {
			r.ctr.duplicates++
			snd.acks = addRange(snd.acks, d.Offset, d.Offset+1)
			r.scheduleLocked()
			return 0, false, nil
		}
		if snd.pending[d.Offset] != nil {
			r.ctr.duplicates++ // the application holds it already
			return 0, false, nil
		}
	}
	tag := r.live.put(inDelivery{r: r, snd: snd, p: p, cs: cs, off: d.Offset, epoch: d.Epoch, count: d.Count, ts: d.Time})
	snd.pending[d.Offset] = r.live.get(tag)
	return tag, true, nil
}

// streamInLocked takes a stream's message with its JSTREAM d: a duplicate
// (an offset at or below one already received, or settled) is dropped,
// any other gets a tag for the pattern. r.mu must be held.
func (r *receiver) streamInLocked(p *pipe, cs *connState, snd *rsender, d jwire.Data) (patterns.Tag, bool) {
	snd.pipe = p
	snd.known = true
	r.ctr.received++
	if d.Offset < snd.recvHigh || snd.acked.has(d.Offset) {
		r.ctr.duplicates++
		return 0, false
	}
	snd.recvHigh = d.Offset + 1
	snd.held++
	cs.live++
	in, tag := r.live.take()
	in.r, in.snd, in.p, in.cs = r, snd, p, cs
	in.off, in.epoch, in.count, in.ts = d.Offset, d.Epoch, d.Count, d.Time
	return tag, true
}

// streamRoom waits until cs's stream may hold one more message the
// application has not taken, and returns how many it may take now; it
// fails with ErrClosed once the socket closes.
func (r *receiver) streamRoom(cs *connState) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for cs.live >= r.window && !r.closed {
		if cs.room == nil {
			cs.room = make(chan struct{}, 1)
		}
		cs.waiting = true
		r.mu.Unlock()
		select {
		case <-cs.room:
		case <-r.quit:
			r.mu.Lock()
			return 0, ErrClosed
		}
		r.mu.Lock()
	}
	if r.closed {
		return 0, ErrClosed
	}
	return r.window - cs.live, nil
}

// receiveStream is receive for a batch of a stream's messages read by
// readStream: it pairs each with the JSTREAM read ahead of it (cs.ahead;
// base is the connection's number of batch[0]), drops duplicates, and
// returns the rest, compacted in place, with their tags (0 for a message
// that came without a JSTREAM). It takes r.mu once for the batch.
func (r *receiver) receiveStream(p *pipe, cs *connState, base uint64, batch []Msg, tags []patterns.Tag) ([]Msg, []patterns.Tag, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return batch[:0], tags, ErrClosed
	}
	if len(cs.ahead) > 0 && cs.ahead[0].at < base {
		return batch[:0], tags, fmt.Errorf("%w: a JSTREAM or JRUN record without its message", transport.ErrProtocol)
	}
	snd := cs.snd
	if snd == nil && len(cs.ahead) > 0 {
		var err error
		if snd, err = r.senderLocked(cs.hello.Journal); err != nil {
			return batch[:0], tags, err
		}
		cs.snd = snd // senders are never forgotten
	}
	n, qi := 0, 0
	for i, m := range batch {
		var tag patterns.Tag
		if qi < len(cs.ahead) && cs.ahead[qi].at == base+uint64(i) {
			t, ok := r.streamInLocked(p, cs, snd, cs.ahead[qi].data)
			qi++
			if !ok {
				continue
			}
			tag = t
		}
		batch[n] = m
		tags = append(tags, tag)
		n++
	}
	// JSTREAMs for messages not read yet (a failure cut the batch short)
	// wait for them.
	cs.ahead = cs.ahead[:copy(cs.ahead, cs.ahead[qi:])]
	return batch[:n], tags, nil
}

// senderLocked returns the state of the sender with journal id, loading
// what the dedup store kept of it.
func (r *receiver) senderLocked(id durable.JournalID) (*rsender, error) {
	if snd := r.senders[id]; snd != nil {
		return snd, nil
	}
	snd := &rsender{id: id, pending: make(map[uint64]*inDelivery), confirmOut: make(map[uint64]*confirmBatch)}
	if r.store != nil {
		floor, ranges, found, err := r.store.load(id)
		if err != nil {
			return nil, fmt.Errorf("brook: journal store: %w", err)
		}
		snd.known = found
		snd.acked.floor = floor
		for _, rg := range ranges {
			snd.acked.add(rg.Lo, rg.Hi)
		}
	}
	r.senders[id] = snd
	return snd, nil
}

// delivery turns what the pattern returned into the application's
// Delivery: with its journal facts when tag names one. It returns nil for
// a message revoked meanwhile (acknowledged by another receiver): the
// application must not get it.
func (r *receiver) delivery(rv patterns.Received) *Delivery {
	d := newDelivery(rv)
	if rv.Tag == 0 || r == nil {
		return d
	}
	r.mu.Lock()
	slot := r.live.get(rv.Tag)
	if slot == nil {
		r.mu.Unlock()
		return d
	}
	r.takenLocked(slot)
	if slot.revoked {
		r.ctr.duplicates++
		r.live.release(slot)
		r.mu.Unlock()
		return nil
	}
	// The Delivery keeps it until the application settles it, however
	// long: it leaves its slot for the heap.
	in := new(inDelivery)
	*in = *slot
	in.tag = 0
	in.given = true
	if !r.stream {
		in.snd.pending[in.off] = in
	}
	r.live.release(slot)
	r.mu.Unlock()
	d.d = in
	d.ID = MsgID{Journal: in.snd.id, Epoch: in.epoch, Offset: in.off}
	d.Count = int(in.count)
	d.Time = time.Unix(0, in.ts)
	return d
}

// takenLocked notes that the pattern has given up in (to the application
// or not): a stream connection waiting for room may read on.
func (r *receiver) takenLocked(in *inDelivery) {
	cs := in.cs
	if !r.stream || cs == nil {
		return
	}
	cs.live--
	if cs.waiting && cs.live < r.window {
		cs.waiting = false
		select {
		case cs.room <- struct{}{}:
		default:
		}
	}
}

// stopWaiting wakes connections waiting for room: the socket is closing
// and will take nothing more.
func (r *receiver) stopWaiting() {
	r.quitOnce.Do(func() { close(r.quit) })
}

// ackedLocked records in as acknowledged here: settled, out of the
// pending set, in the acknowledged set (the dedup store's next commit).
func (r *receiver) ackedLocked(in *inDelivery) {
	in.settled = true
	r.unheldLocked(in)
	r.ctr.acked++
	in.snd.acked.add(in.off, in.off+1)
	in.snd.dirty = true
}

// unheldLocked takes in out of what the application holds.
func (r *receiver) unheldLocked(in *inDelivery) {
	if r.stream {
		in.snd.held--
		return
	}
	delete(in.snd.pending, in.off)
}

// receivedAcked is delivery followed by an acknowledgement on receipt,
// for Recv: it builds no Delivery. It reports false for a message revoked
// meanwhile, which the application must not get.
func (r *receiver) receivedAcked(tag patterns.Tag) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.live.get(tag)
	if in == nil {
		return true
	}
	defer r.live.release(in)
	r.takenLocked(in)
	if in.revoked {
		r.ctr.duplicates++
		return false
	}
	in.given = true
	if in.settled || r.closed {
		return true
	}
	r.ackedLocked(in)
	if !r.stream {
		in.snd.acks = addRange(in.snd.acks, in.off, in.off+1)
		r.scheduleLocked()
	}
	return true
}

// forget settles a tagged message the application never got (the socket
// closed with it unread, or the pattern dropped it): its sender delivers
// it again, to this receiver or another.
func (r *receiver) forget(tag patterns.Tag) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.live.get(tag)
	if in == nil {
		return
	}
	defer r.live.release(in)
	r.takenLocked(in)
	// A queue's sender delivers it again; a stream's position stays
	// before it, so a resumption after a restart reads it again.
	r.unheldLocked(in)
	in.settled = true
}

// settle acknowledges (or, with nack, gives back) a delivery.
func (in *inDelivery) settle(nack bool, delay time.Duration) error {
	r := in.r
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if in.settled {
		r.mu.Unlock()
		return ErrAcked
	}
	if nack && r.stream {
		r.mu.Unlock()
		return fmt.Errorf("%w: a stream is not redelivered; leave the message unacknowledged and the position stays before it", ErrNotSupported)
	}
	snd := in.snd
	if nack {
		in.settled = true
		delete(snd.pending, in.off)
		r.ctr.nacked++
		snd.nacks = append(snd.nacks, nackReq{delay: delay, off: in.off})
		r.scheduleLocked()
		r.mu.Unlock()
		return nil
	}
	r.ackedLocked(in)
	if r.stream {
		// A position: committed every WithPositionStore interval, by
		// CommitPositions and on Close; no acknowledgement goes back.
		r.mu.Unlock()
		return nil
	}
	snd.acks = addRange(snd.acks, in.off, in.off+1)
	round := r.round
	r.scheduleLocked()
	r.mu.Unlock()
	if r.store == nil {
		return nil
	}
	<-round.done
	return round.err
}

// ackSync acknowledges a delivery and waits until its sender has it
// durably (JDONE): then no receiver will ever be given the message again.
// A stream's AckSync commits the positions instead.
func (in *inDelivery) ackSync(ctx context.Context) error {
	r := in.r
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if in.settled {
		r.mu.Unlock()
		return ErrAcked
	}
	snd := in.snd
	r.ackedLocked(in)
	if r.stream {
		r.mu.Unlock()
		return r.commitPositions()
	}
	snd.acks = addRange(snd.acks, in.off, in.off+1)
	if snd.confirming == nil {
		snd.confirming = &confirmBatch{}
	}
	b := snd.confirming
	b.ranges = addRange(b.ranges, in.off, in.off+1)
	w := &confirmWait{done: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	r.scheduleLocked()
	r.mu.Unlock()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// confirmed takes a sender's JDONE.
func (r *receiver) confirmed(h jwire.Hello, seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snd := r.senders[h.Journal]
	if snd == nil {
		return
	}
	if b := snd.confirmOut[seq]; b != nil {
		delete(snd.confirmOut, seq)
		b.finish(nil)
	}
}

// senderConnected notes a new connection to a journaled sender: its
// acknowledgements go there from now on, and the confirmations still
// awaited are asked for again on it.
func (r *receiver) senderConnected(p *pipe, h jwire.Hello) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snd, err := r.senderLocked(h.Journal)
	if err != nil {
		r.s.log.Warn("journal store", "err", err)
		return
	}
	snd.pipe = p
	for seq, b := range snd.confirmOut {
		delete(snd.confirmOut, seq)
		if snd.confirming == nil {
			snd.confirming = &confirmBatch{}
		}
		next := snd.confirming
		for _, rg := range b.ranges {
			next.ranges = addRange(next.ranges, rg.Lo, rg.Hi)
		}
		next.waiters = append(next.waiters, b.waiters...)
	}
	if snd.confirming != nil || len(snd.acks) > 0 {
		r.scheduleLocked()
	}
}

func (r *receiver) scheduleLocked() {
	select {
	case r.work <- struct{}{}:
	default:
	}
}

// flushLoop sends acknowledgements in batches: each round commits the
// dedup store once (one fsync for every acknowledgement of the round),
// then queues JACK and JNACK commands on the senders' connections.
func (r *receiver) flushLoop() {
	defer close(r.done)
	var tick <-chan time.Time
	if r.stream && r.store != nil {
		t := time.NewTicker(r.commit)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.work:
		case <-tick:
			if err := r.commitPositions(); err != nil {
				r.s.log.Warn("position store", "err", err)
			}
			continue
		}
		r.mu.Lock()
		closed := r.closed
		round := r.round
		r.round = &ackRound{done: make(chan struct{})}
		type out struct {
			p     *pipe
			seq   uint64
			acks  []jwire.Range
			nacks []nackReq
		}
		var outs []out
		dirty := false
		for _, snd := range r.senders {
			if len(snd.acks) == 0 && len(snd.nacks) == 0 && snd.confirming == nil {
				continue
			}
			dirty = dirty || snd.dirty
			if r.store != nil && snd.dirty {
				if left := r.store.record(snd.id, snd.acked.floor, snd.acked.ranges); left > 0 {
					// The store keeps the ranges nearest the floor: after a
					// restart the others may be passed on again.
					r.ctr.storeOverflow += uint64(left)
					r.s.log.Warn("dedup store full: acknowledgements above the floor not kept", "sender", snd.id, "ranges", left)
				}
				snd.dirty = false
			}
			if snd.pipe == nil {
				// Disconnected: the acknowledgements are sent when the
				// sender is connected again (senderConnected), so a
				// restarted sender need not deliver them to anyone; the
				// negative ones are moot (it takes back what the lost
				// connection held).
				snd.nacks = nil
				continue
			}
			o := out{p: snd.pipe, acks: snd.acks, nacks: snd.nacks}
			if b := snd.confirming; b != nil && snd.pipe != nil {
				snd.seq++
				o.seq = snd.seq
				for _, rg := range b.ranges {
					o.acks = addRange(o.acks, rg.Lo, rg.Hi)
				}
				snd.confirmOut[o.seq] = b
				snd.confirming = nil
			}
			outs = append(outs, o)
			snd.acks, snd.nacks = nil, nil
		}
		r.mu.Unlock()
		if r.store != nil && (dirty || (closed && r.stream)) {
			if r.stream {
				round.err = r.commitPositions()
			} else {
				round.err = r.store.commit()
			}
		}
		close(round.done)
		if round.err == nil {
			for _, o := range outs {
				sendAcks(o.p, o.seq, o.acks, o.nacks)
			}
		}
		if closed {
			return
		}
	}
}

// sendAcks queues JACK and JNACK commands on p, split to fit; the last
// JACK carries seq, so its JDONE confirms them all.
func sendAcks(p *pipe, seq uint64, acks []jwire.Range, nacks []nackReq) {
	if p == nil {
		return
	}
	for len(acks) > 0 {
		n := min(len(acks), jwire.MaxRanges)
		var s uint64
		if n == len(acks) {
			s = seq
		}
		p.sendCommand(jwire.CmdAck, jwire.AppendAck(nil, s, acks[:n]))
		acks = acks[n:]
	}
	byDelay := map[time.Duration][]jwire.Range{}
	for _, nk := range nacks {
		byDelay[nk.delay] = addRange(byDelay[nk.delay], nk.off, nk.off+1)
	}
	for delay, rs := range byDelay {
		for len(rs) > 0 {
			n := min(len(rs), jwire.MaxRanges)
			p.sendCommand(jwire.CmdNack, jwire.AppendNack(nil, delay, rs[:n]))
			rs = rs[n:]
		}
	}
}

// flushNow runs an acknowledgement round at once and waits for it, or
// for ctx: a closing socket hands its last acknowledgements to the pipes
// before they linger.
func (r *receiver) flushNow(ctx context.Context) {
	r.mu.Lock()
	round := r.round
	r.scheduleLocked()
	r.mu.Unlock()
	select {
	case <-round.done:
	case <-ctx.Done():
	}
}

// commitPositions makes every stream position durable in the store.
func (r *receiver) commitPositions() error {
	if r.store == nil {
		return nil
	}
	r.mu.Lock()
	for _, snd := range r.senders {
		if snd.dirty {
			if left := r.store.record(snd.id, snd.acked.floor, snd.acked.ranges); left > 0 {
				r.ctr.storeOverflow += uint64(left)
			}
			snd.dirty = false
		}
	}
	r.mu.Unlock()
	return r.store.commit()
}

// streamSub says where p's publisher should start its stream: after the
// position this receiver has for its journal, else where WithStart says.
func (r *receiver) streamSub(h jwire.Hello) (jwire.Sub, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snd, err := r.senderLocked(h.Journal)
	if err != nil {
		return jwire.Sub{}, err
	}
	snd.stream = true
	if snd.known {
		return jwire.Sub{Mode: jwire.StartOffset, Value: snd.acked.floor}, nil
	}
	return jwire.Sub{Mode: r.start.mode, Value: r.start.value}, nil
}

// streamStart takes a publisher's JSTART: the stream starts at First, and
// what was asked for before it is gone (reported).
func (r *receiver) streamStart(p *pipe, h jwire.Hello, info jwire.StartInfo) error {
	r.mu.Lock()
	snd, err := r.senderLocked(h.Journal)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	snd.known = true
	snd.pipe = p
	if info.Flags&jwire.StartBeyondEnd != 0 {
		// The publisher no longer has offsets we had: forget them.
		snd.acked = ackSet{floor: info.First}
		snd.recvHigh = info.First
		snd.dirty = true
	} else {
		snd.acked.raise(info.First)
	}
	r.ctr.gaps += info.Gap
	r.mu.Unlock()
	switch {
	case info.Flags&jwire.StartBeyondEnd != 0:
		r.s.mon.emit(Event{Type: EventJournalChanged, Endpoint: p.endpoint, Count: int(info.Gap),
			Err: fmt.Errorf("brook: publisher journal %s no longer has the last %d messages this subscriber saw (it lost its unsynced tail, or was replaced); resuming at %d", h.Journal, info.Gap, info.First)})
	case info.Gap > 0:
		r.s.mon.emit(Event{Type: EventJournalGap, Endpoint: p.endpoint, Count: int(info.Gap),
			Err: fmt.Errorf("brook: %d messages of journal %s were deleted by retention before this subscriber read them; resuming at %d", info.Gap, h.Journal, info.First)})
	}
	return nil
}

// revoked takes a sender's JREVOKE: offsets acknowledged by another
// receiver. Those the application has not taken are dropped when it
// would (delivery returns nil); all are settled here.
func (r *receiver) revoked(h jwire.Hello, rs []jwire.Range) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	snd, err := r.senderLocked(h.Journal)
	if err != nil {
		return err
	}
	for _, rg := range rs {
		if rg.Len() <= uint64(len(snd.pending)) {
			for off := rg.Lo; off < rg.Hi; off++ {
				r.revokeLocked(snd, off)
			}
		} else {
			for off := range snd.pending {
				if off >= rg.Lo && off < rg.Hi {
					r.revokeLocked(snd, off)
				}
			}
		}
		snd.acked.add(rg.Lo, rg.Hi)
		// The answer: the copies are dropped (or were taken before), so
		// the sender may confirm the other receiver's acknowledgement.
		snd.acks = addRange(snd.acks, rg.Lo, rg.Hi)
	}
	r.scheduleLocked()
	return nil
}

func (r *receiver) revokeLocked(snd *rsender, off uint64) {
	if in := snd.pending[off]; in != nil && !in.given {
		in.revoked, in.settled = true, true
		delete(snd.pending, off)
	}
}

// connectionLost drops what came on p and the application has not taken
// yet: its sender takes back what a lost connection had in flight and may
// give it to another receiver, so this copy must not be processed too.
// (Messages of a stream are kept: a stream has no other receiver.)
func (r *receiver) connectionLost(p *pipe) {
	if r.stream {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, snd := range r.senders {
		if snd.pipe == p {
			// Acknowledgements made from now on wait for the next
			// connection to this sender instead of going nowhere.
			snd.pipe = nil
		}
		for off, in := range snd.pending {
			if in.p == p && !in.given {
				in.revoked, in.settled = true, true
				delete(snd.pending, off)
			}
		}
	}
}

// skipped settles offsets a publisher's filter passed over.
func (r *receiver) skipped(h jwire.Hello, rs []jwire.Range) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	snd, err := r.senderLocked(h.Journal)
	if err != nil {
		return err
	}
	for _, rg := range rs {
		snd.acked.add(rg.Lo, rg.Hi)
	}
	snd.dirty = true
	return nil
}

// close stops the flusher after a last round; AckSync callers still
// waiting get ErrClosed.
func (r *receiver) close() error {
	r.mu.Lock()
	r.closed = true
	r.scheduleLocked()
	r.mu.Unlock()
	<-r.done
	r.mu.Lock()
	for _, snd := range r.senders {
		for seq, b := range snd.confirmOut {
			b.finish(ErrClosed)
			delete(snd.confirmOut, seq)
		}
		if b := snd.confirming; b != nil {
			b.finish(ErrClosed)
			snd.confirming = nil
		}
	}
	r.mu.Unlock()
	var err error
	if r.store != nil {
		err = r.store.close()
	}
	return err
}

// stats returns the receiver's counters.
func (r *receiver) stats(st *JournalStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.Received = r.ctr.received
	st.Duplicates = r.ctr.duplicates
	st.AckedHere = r.ctr.acked
	st.NackedHere = r.ctr.nacked
	st.StoreOverflow = r.ctr.storeOverflow
	st.Gaps = r.ctr.gaps
	for _, snd := range r.senders {
		st.Unacked += len(snd.pending) + snd.held
	}
}

// ackStore keeps acknowledged offsets per sender journal across restarts.
type ackStore interface {
	// load returns what was committed for a sender, and whether anything
	// was.
	load(id durable.JournalID) (floor uint64, ranges []jwire.Range, found bool, err error)
	// record notes a sender's acknowledged set for the next commit and
	// returns how many ranges it could not keep.
	record(id durable.JournalID, floor uint64, ranges []jwire.Range) int
	// commit makes everything recorded durable.
	commit() error
	close() error
}
