package socket

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket/internal/jwire"
)

// qsender is the sending side of a journaled PUSH or DEALER: the queue
// model. Send journals a message and returns once it is durable; one
// dispatcher goroutine then delivers durable records, oldest first, round
// robin to the ready peers, at most a window (the send high-water mark) in
// flight per peer that speaks the journal profile, and takes them back
// when the peer disconnects, negatively acknowledges them or keeps them
// past the ack timeout. A peer that does not speak the profile (libzmq, a
// brook socket of an older version) gets messages at most once: one it
// accepts is acknowledged at once and counted as PlainDelivered.
type qsender struct {
	s      *Socket
	j      *journal
	cur    *durable.Cursor
	opts   *journalOptions
	window int
	cache  *tailCache    // what was sent recently: delivered without a read
	sent   atomic.Uint64 // the offset after the last message sent (queued in the journal)

	mu   sync.Mutex
	wake chan struct{} // closed and replaced to wake the dispatcher
	// changed is the journal's change channel pick took when it found
	// nothing new to send (nil otherwise); run waits on it.
	changed <-chan struct{}

	closed   bool
	next     uint64 // the first offset the dispatcher has not looked at yet
	msgs     map[uint64]*qmsg
	redo     offsetHeap // offsets to deliver now, lowest first (may hold stale ones)
	delayed  delayHeap  // offsets due later (may hold stale ones)
	nextScan int64      // unix ns of the next ack timeout scan
	pause    int64      // unix ns before which nothing is read (after a read error)
	peers    []*qpeer
	rr       int
	syncing  bool // a Sync started by the dispatcher is running
	draining bool // the socket is closing: nothing new goes out
	confirms []confirmReq
	held     []confirmReq // confirmations waiting for refused ranges to be recorded
	// unrecorded holds acknowledged ranges the cursor refused (too many
	// ranges), sorted: see commit.
	unrecorded []jwire.Range
	revoking   int // messages in the revoking state

	confirmKick chan struct{} // a token: confirms waiting
	confirmDone chan struct{}
	ctr         queueCounters

	done chan struct{}
}

// qmsg is the state of one message the dispatcher has looked at and that
// is not acknowledged yet.
type qmsg struct {
	count uint32 // deliveries so far
	peer  *qpeer // where it is in flight; nil while it waits
	// others are profile peers that were given it before and had it
	// taken back at the ack timeout: their copies may still be unread.
	others []*qpeer
	// waitFor, once another receiver acknowledged it, are the holders
	// whose copies must be dropped first (their JREVOKE answers): until
	// then no JDONE covers it, and it is never delivered again.
	waitFor   []*qpeer
	sentAt    int64 // unix ns of the last delivery
	notBefore int64 // unix ns; 0 for none
}

// qpeer is one connection the dispatcher delivers to.
type qpeer struct {
	p        *pipe
	profile  bool // speaks the journal profile: acknowledges
	inflight int
	full     bool // plain peer: its queue refused a message
	gone     bool
}

// queueCounters are the queue model's statistics.
type queueCounters struct {
	delivered, redelivered, acked, nacked, timedOut uint64
	plainDelivered, deadLettered, lost              uint64
}

func newQSender(s *Socket, j *journal) (*qsender, error) {
	cur, err := j.log.Cursor(j.opts.cursor)
	if err != nil {
		return nil, fmt.Errorf("brook: journal cursor %q: %w", j.opts.cursor, err)
	}
	window := journalWindow(s.opts.sendHWM)
	q := &qsender{
		s:      s,
		j:      j,
		cur:    cur,
		opts:   &j.opts,
		window: window,
		cache:  newTailCache(),
		wake:   make(chan struct{}),
		next:   cur.Offset(),
		msgs:   make(map[uint64]*qmsg),
		done:   make(chan struct{}),

		confirmKick: make(chan struct{}, 1),
		confirmDone: make(chan struct{}),
	}
	return q, nil
}

// start runs the dispatcher and the confirmer; close stops them.
func (q *qsender) start() {
	go q.run()
	go q.confirmLoop()
}

// drain stops delivering and waits until nothing is in flight at a peer
// that acknowledges, or ctx ends: a closing socket's last deliveries get
// their acknowledgements, so a restarted sender need not deliver them
// again.
func (q *qsender) drain(ctx context.Context) {
	q.mu.Lock()
	q.draining = true
	q.wakeLocked()
	q.mu.Unlock()
	for {
		q.mu.Lock()
		busy := false
		for _, qp := range q.peers {
			busy = busy || (qp.profile && qp.inflight > 0)
		}
		wait := q.wake
		q.mu.Unlock()
		if !busy {
			return
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return
		}
	}
}

// waitAcked waits until every offset below end is settled (acknowledged,
// dead-lettered, or lost and reported), or ctx ends.
func (q *qsender) waitAcked(ctx context.Context, end uint64) error {
	for {
		q.mu.Lock()
		wait := q.wake
		q.mu.Unlock()
		if q.cur.Offset() >= end {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops the dispatcher, commits the cursor and, on the socket's
// own journal, applies its retention.
func (q *qsender) close() error {
	q.mu.Lock()
	q.closed = true
	q.wakeLocked()
	q.mu.Unlock()
	select {
	case q.confirmKick <- struct{}{}:
	default:
	}
	<-q.done
	<-q.confirmDone
	if err := q.cur.Commit(); err != nil {
		return err
	}
	if q.j.owned {
		// Free what every receiver acknowledged now, not at the next roll.
		return q.j.log.EnforceRetention()
	}
	return nil
}

func (q *qsender) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *qsender) poke() {
	q.mu.Lock()
	q.wakeLocked()
	q.mu.Unlock()
}

// send journals m and returns its Pending once queued in the journal.
// The dispatcher learns of it when it becomes durable.
func (q *qsender) send(ctx context.Context, m Msg, o sendOpts) (Pending, error) {
	p, frames, err := q.j.append(ctx, m, o.notBefore)
	if err == nil {
		q.cache.put(p.id.Offset, frames)
		for end := p.id.Offset + 1; ; {
			cur := q.sent.Load()
			if cur >= end || q.sent.CompareAndSwap(cur, end) {
				break
			}
		}
	}
	return p, err
}

// attach adds a connected peer.
func (q *qsender) attach(p *pipe, profile bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, qp := range q.peers {
		if qp.p == p {
			return
		}
	}
	q.peers = append(q.peers, &qpeer{p: p, profile: profile})
	q.wakeLocked()
}

// detach removes a peer whose connection ended: what it had in flight is
// delivered again to the others.
func (q *qsender) detach(p *pipe) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, qp := range q.peers {
		if qp.p != p {
			continue
		}
		qp.gone = true
		q.peers = append(q.peers[:i], q.peers[i+1:]...)
		if q.rr > i {
			q.rr--
		}
		for off, m := range q.msgs {
			if m.revoking() {
				// Its receiver drops what it had not given out when the
				// connection ends.
				q.answeredLocked(off, m, qp)
				continue
			}
			m.others, _ = removePeer(m.others, qp)
			if m.peer == qp {
				m.peer = nil
				heap.Push(&q.redo, off)
			}
		}
		qp.inflight = 0
		q.wakeLocked()
		return
	}
}

// writable tells the dispatcher a plain peer's queue has room again.
func (q *qsender) writable(p *pipe) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, qp := range q.peers {
		if qp.p == p && qp.full {
			qp.full = false
			q.wakeLocked()
		}
	}
}

// ack takes acknowledgements from p's receiver. Every acknowledged offset
// of a durable record goes into the cursor, also one this dispatcher never
// delivered (a receiver acknowledging, after this sender restarted, what
// the previous run delivered). With seq > 0 the receiver waits for a JDONE
// once the cursor has it durably.
func (q *qsender) ack(p *pipe, seq uint64, rs []jwire.Range) {
	rs = clipRanges(rs, q.j.log.DurableEnd())
	var revoke map[*qpeer][]jwire.Range
	q.mu.Lock()
	now := time.Now().UnixNano()
	for _, off := range q.matchLocked(rs) {
		m := q.msgs[off]
		if m.revoking() {
			if qp := peerOf(m.waitFor, p); qp != nil {
				q.answeredLocked(off, m, qp) // a holder's answer
			}
			continue
		}
		q.ctr.acked++
		// Delivered elsewhere too (a redelivery, or a copy left unread
		// after an ack timeout), acknowledged here first: the other
		// holders drop their copies if their applications have not taken
		// them yet, and answer.
		var targets []*qpeer
		if m.peer != nil && m.peer.p != p && m.peer.profile {
			targets = addPeer(targets, m.peer)
		}
		for _, o := range m.others {
			if o.p != p && !o.gone {
				targets = addPeer(targets, o)
			}
		}
		m.others = nil
		if m.peer != nil && (m.peer.p == p || !m.peer.profile) {
			m.peer.inflight--
			m.peer = nil
		}
		if len(targets) == 0 {
			delete(q.msgs, off)
			continue
		}
		m.waitFor, m.sentAt = targets, now
		q.revoking++
		if revoke == nil {
			revoke = make(map[*qpeer][]jwire.Range)
		}
		for _, t := range targets {
			revoke[t] = addRange(revoke[t], off, off+1)
		}
	}
	q.wakeLocked()
	q.mu.Unlock()
	for qp, rrs := range revoke {
		for len(rrs) > 0 {
			k := min(len(rrs), jwire.MaxRanges)
			qp.p.sendCommand(jwire.CmdRevoke, jwire.AppendRanges(nil, rrs[:k]))
			rrs = rrs[k:]
		}
	}
	// Into the cursor before any confirmation is asked for: the
	// confirmer's Commit must include these offsets.
	q.commit(rs)
	if seq > 0 {
		q.mu.Lock()
		q.confirms = append(q.confirms, confirmReq{p: p, seq: seq, rs: rs})
		q.mu.Unlock()
		select {
		case q.confirmKick <- struct{}{}:
		default:
		}
	}
}

// confirmReq is a JACK whose receiver waits for JDONE.
type confirmReq struct {
	p   *pipe
	seq uint64
	rs  []jwire.Range
}

// confirmLoop makes the cursor durable for the acknowledgements receivers
// wait on, one commit for all that are waiting, then tells them (JDONE).
func (q *qsender) confirmLoop() {
	defer close(q.confirmDone)
	for {
		q.mu.Lock()
		for len(q.confirms) == 0 && !q.closed {
			q.mu.Unlock()
			<-q.confirmKick
			q.mu.Lock()
		}
		reqs := q.confirms
		q.confirms = nil
		closed := q.closed
		q.mu.Unlock()
		if len(reqs) > 0 {
			if err := q.cur.Commit(); err != nil {
				// Not durable: no JDONE; the receivers ask again on their
				// next connection.
				q.s.log.Warn("journal cursor commit", "err", err)
			} else {
				q.mu.Lock()
				var later []confirmReq
				for _, r := range reqs {
					if !q.recordedLocked(r.rs) || q.revokingInLocked(r.rs) {
						// Confirmed once the cursor takes them and every
						// other holder has dropped its copy.
						later = append(later, r)
						continue
					}
					r.p.sendCommand(jwire.CmdDone, jwire.AppendDone(nil, r.seq))
				}
				q.held = append(q.held, later...)
				q.mu.Unlock()
			}
		}
		if closed {
			return
		}
	}
}

// clipRanges keeps what of sorted ranges lies below end.
func clipRanges(rs []jwire.Range, end uint64) []jwire.Range {
	for i, r := range rs {
		if r.Hi > end {
			if r.Lo < end {
				out := append([]jwire.Range(nil), rs[:i]...)
				return append(out, jwire.Range{Lo: r.Lo, Hi: end})
			}
			return rs[:i]
		}
	}
	return rs
}

// nack takes negative acknowledgements from p's receiver: the messages in
// flight are delivered again after delay.
func (q *qsender) nack(p *pipe, delay time.Duration, rs []jwire.Range) {
	q.mu.Lock()
	defer q.mu.Unlock()
	due := time.Now().Add(delay).UnixNano()
	for _, off := range q.matchLocked(rs) {
		m := q.msgs[off]
		if m.revoking() {
			if qp := peerOf(m.waitFor, p); qp != nil {
				q.answeredLocked(off, m, qp)
			}
			continue
		}
		if qp := peerOf(m.others, p); qp != nil {
			m.others, _ = removePeer(m.others, qp) // its old copy is given back
		}
		if m.peer == nil || m.peer.p != p {
			continue
		}
		m.peer.inflight--
		m.peer = nil
		q.ctr.nacked++
		if delay > 0 {
			heap.Push(&q.delayed, delayEntry{off: off, at: due})
		} else {
			heap.Push(&q.redo, off)
		}
	}
	q.wakeLocked()
}

// matchLocked lists the offsets of q.msgs inside rs, walking whichever is
// smaller so a hostile range cannot make it spin.
func (q *qsender) matchLocked(rs []jwire.Range) []uint64 {
	var total uint64
	for _, r := range rs {
		total += min(r.Len(), uint64(len(q.msgs))+1)
	}
	var out []uint64
	if total <= uint64(len(q.msgs)) {
		for _, r := range rs {
			for off := r.Lo; off < r.Hi && off-r.Lo <= uint64(len(q.msgs)); off++ {
				if _, ok := q.msgs[off]; ok {
					out = append(out, off)
				}
			}
		}
		return out
	}
	for off := range q.msgs {
		i := sort.Search(len(rs), func(i int) bool { return rs[i].Hi > off })
		if i < len(rs) && rs[i].Lo <= off {
			out = append(out, off)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// commit records acknowledged ranges in the cursor (persisted in batches,
// and on Close), then wakes whoever waits for the floor to move.
//
// A cursor holds a bounded number of acknowledged ranges above its floor
// (durable.WithMaxAckRanges): when acknowledgements are too fragmented
// (many messages out for a long time below many acknowledged ones) it
// refuses a new range (durable.ErrRangesFull) and records nothing. Such
// ranges are kept here, unrecorded: the dispatcher skips them as
// acknowledged, they are tried again whenever more acknowledgements come
// in (a range that joins recorded ones always fits), and no JDONE
// confirms them before they are recorded. A sender that crashes with
// some unrecorded delivers them again after its restart.
func (q *qsender) commit(rs []jwire.Range) {
	if len(rs) == 0 {
		return
	}
	var refused []jwire.Range
	for _, r := range rs {
		if err := q.cur.AckRange(r.Lo, r.Hi); err != nil {
			if errors.Is(err, durable.ErrRangesFull) {
				refused = append(refused, r)
			} else if !errors.Is(err, durable.ErrClosed) {
				q.s.log.Warn("journal cursor", "err", err)
			}
		}
	}
	q.mu.Lock()
	for _, r := range refused {
		q.unrecorded = addRange(q.unrecorded, r.Lo, r.Hi)
	}
	if len(q.unrecorded) > 0 {
		q.retryUnrecordedLocked()
	}
	q.mu.Unlock()
	q.poke()
}

// retryUnrecordedLocked offers the cursor the ranges it refused before.
func (q *qsender) retryUnrecordedLocked() {
	kept := q.unrecorded[:0]
	for _, r := range q.unrecorded {
		if err := q.cur.AckRange(r.Lo, r.Hi); err != nil && errors.Is(err, durable.ErrRangesFull) {
			kept = append(kept, r)
		}
	}
	q.unrecorded = kept
	q.releaseHeldLocked()
}

// releaseHeldLocked hands the held confirmations back to the confirmer,
// which sends those whose ranges are now recorded and not being revoked.
func (q *qsender) releaseHeldLocked() {
	if len(q.held) == 0 {
		return
	}
	q.confirms = append(q.confirms, q.held...)
	q.held = nil
	select {
	case q.confirmKick <- struct{}{}:
	default:
	}
}

// answeredLocked notes that holder qp of the acknowledged message m
// answered its JREVOKE, or will never give m to its application (its
// connection ended, the copy was never written, it gave m back). When no
// holder is left, m leaves the dispatcher.
func (q *qsender) answeredLocked(off uint64, m *qmsg, qp *qpeer) {
	if m.peer == qp {
		qp.inflight--
		m.peer = nil
	}
	var ok bool
	if m.waitFor, ok = removePeer(m.waitFor, qp); ok && len(m.waitFor) == 0 {
		q.finishRevokeLocked(off, m)
	}
}

// finishRevokeLocked ends m's wait for its holders' answers (all in, or
// given up on after the ack timeout): the held confirmations may go.
func (q *qsender) finishRevokeLocked(off uint64, m *qmsg) {
	if m.peer != nil {
		m.peer.inflight--
		m.peer = nil
	}
	m.waitFor = nil
	delete(q.msgs, off)
	q.revoking--
	q.wakeLocked()
	q.releaseHeldLocked()
}

// revokingInLocked reports whether some offset of rs is being revoked.
func (q *qsender) revokingInLocked(rs []jwire.Range) bool {
	if q.revoking == 0 {
		return false
	}
	for _, off := range q.matchLocked(rs) {
		if q.msgs[off].revoking() {
			return true
		}
	}
	return false
}

// revoking reports whether m, acknowledged, waits for other holders to
// drop their copies.
func (m *qmsg) revoking() bool { return len(m.waitFor) > 0 }

// peerOf returns the peer of ps on pipe p, or nil.
func peerOf(ps []*qpeer, p *pipe) *qpeer {
	for _, qp := range ps {
		if qp.p == p {
			return qp
		}
	}
	return nil
}

// addPeer adds qp to ps once.
func addPeer(ps []*qpeer, qp *qpeer) []*qpeer {
	if slices.Contains(ps, qp) {
		return ps
	}
	return append(ps, qp)
}

// removePeer removes qp from ps.
func removePeer(ps []*qpeer, qp *qpeer) ([]*qpeer, bool) {
	i := slices.Index(ps, qp)
	if i < 0 {
		return ps, false
	}
	return slices.Delete(ps, i, i+1), true
}

// recordedLocked reports whether every offset of rs is in the cursor.
func (q *qsender) recordedLocked(rs []jwire.Range) bool {
	for _, r := range rs {
		for _, u := range q.unrecorded {
			if u.Lo < r.Hi && r.Lo < u.Hi {
				return false
			}
		}
	}
	return true
}

// journalWindow is how many journaled messages one peer may have in
// flight: the send high-water mark, or DefaultHWM when that is unlimited
// (0) — the journal holds the backlog; a peer's queue never needs all of
// it.
func journalWindow(hwm int) int {
	if hwm <= 0 {
		return DefaultHWM
	}
	return hwm
}

// choice is what the dispatcher decided to do next.
type choice struct {
	off   uint64
	peer  *qpeer
	fresh bool // a never-looked-at offset (else a redelivery or due delayed)
	m     *qmsg
}

// run is the dispatcher goroutine.
func (q *qsender) run() {
	defer close(q.done)
	seq := q.j.log.NewReader(q.next)
	defer seq.Close()
	var rnd *durable.Reader
	defer func() {
		if rnd != nil {
			rnd.Close()
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// The records read are durable: Next returns them without waiting,
	// and an ended context says not to wait for anything else.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		c, wait, deadline, stop := q.pick()
		if stop {
			return
		}
		if c.peer == nil {
			if deadline > 0 {
				timer.Reset(time.Duration(deadline - time.Now().UnixNano()))
			}
			q.mu.Lock()
			changed := q.changed
			q.mu.Unlock()
			if changed == nil {
				changed = q.j.log.Changed()
			}
			select {
			case <-wait:
			case <-changed:
			case <-timer.C:
			}
			if deadline > 0 && !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			continue
		}
		if frames, ok := q.cache.get(c.off); ok {
			if jr, err := parseHeader(c.off, frames); err == nil {
				q.deliver(c, jr)
				continue
			}
		}
		var rec durable.Record
		var err error
		if c.fresh {
			if seq.Offset() != c.off {
				seq.Seek(c.off)
			}
			rec, err = seq.Next(done)
		} else {
			if rnd == nil {
				rnd = q.j.log.NewReader(c.off)
			} else {
				rnd.Seek(c.off)
			}
			rec, err = rnd.Next(done)
		}
		if err != nil {
			q.readFailed(c, err)
			continue
		}
		jr, err := parseRecord(rec)
		if err != nil {
			// Not a message a socket wrote: it cannot be delivered.
			q.s.log.Warn("journal record skipped", "offset", c.off, "err", err)
			q.deadLetter(c, jr, err.Error())
			continue
		}
		q.deliver(c, jr)
	}
}

// pick chooses the next delivery: the lowest offset due (a redelivery, a
// delayed message come due, or the next durable record) and the next
// peer in turn with room. Without one it returns what to wait for.
func (q *qsender) pick() (c choice, wait <-chan struct{}, deadline int64, stop bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.changed = nil
	if q.closed {
		return choice{}, nil, 0, true
	}
	now := time.Now().UnixNano()
	deadline = q.expireLocked(now)
	if now < q.pause {
		return choice{}, q.wake, minDeadline(deadline, q.pause), false
	}
	for q.delayed.Len() > 0 {
		e := q.delayed[0]
		if m := q.msgs[e.off]; m == nil || m.peer != nil || m.revoking() {
			heap.Pop(&q.delayed) // stale
			continue
		}
		if e.at > now {
			deadline = minDeadline(deadline, e.at)
			break
		}
		heap.Pop(&q.delayed)
		heap.Push(&q.redo, e.off)
	}
	wait = q.wake
	if q.draining {
		return choice{}, wait, deadline, false
	}
	peer := q.readyPeerLocked()
	if peer == nil {
		return choice{}, wait, deadline, false
	}
	for q.redo.Len() > 0 {
		off := q.redo[0]
		m := q.msgs[off]
		if m == nil || m.peer != nil || m.revoking() {
			heap.Pop(&q.redo) // stale: acknowledged or already out again
			continue
		}
		if m.notBefore > now {
			heap.Pop(&q.redo)
			heap.Push(&q.delayed, delayEntry{off: off, at: m.notBefore})
			deadline = minDeadline(deadline, m.notBefore)
			continue
		}
		heap.Pop(&q.redo)
		return q.reserveLocked(choice{off: off, peer: peer, m: m}), nil, 0, false
	}
	q.checkRetentionLocked()
	end := q.j.log.DurableEnd()
	for q.next < end && (q.cur.Acked(q.next) || rangesHave(q.unrecorded, q.next)) {
		q.next++
	}
	if q.next >= end {
		// Caught up: take the journal's change channel before looking at
		// its end once more, so a batch made durable in between wakes run
		// instead of being missed.
		q.changed = q.j.log.Changed()
		end = q.j.log.DurableEnd()
		for q.next < end && (q.cur.Acked(q.next) || rangesHave(q.unrecorded, q.next)) {
			q.next++
		}
	}
	if q.next < end {
		off := q.next
		q.next++
		m := &qmsg{}
		q.msgs[off] = m
		return q.reserveLocked(choice{off: off, peer: peer, fresh: true, m: m}), nil, 0, false
	}
	if q.j.log.End() > end && !q.syncing {
		// Interval or None mode: records are visible before they are
		// durable. Deliver only durable ones, and sync now rather than
		// wait for the ticker.
		q.syncing = true
		go q.syncNow()
	}
	return choice{}, wait, deadline, false
}

// syncNow makes what is written durable, so it can be delivered.
func (q *qsender) syncNow() {
	err := q.j.log.Sync()
	q.mu.Lock()
	q.syncing = false
	q.mu.Unlock()
	if err != nil && !errors.Is(err, durable.ErrClosed) {
		q.s.log.Warn("journal sync", "err", err)
	}
}

// checkRetentionLocked reports records retention deleted before they were
// acknowledged (WithRetainBytes or WithRetainAge on a queue's journal):
// they are lost, and counted, never skipped silently.
func (q *qsender) checkRetentionLocked() {
	first := q.j.log.First()
	if q.next >= first {
		return
	}
	lost := first - q.next
	q.ctr.lost += lost
	q.next = first
	q.s.mon.emit(Event{Type: EventJournalGap, Count: int(min(lost, math.MaxInt)),
		Err: fmt.Errorf("%w: %d unacknowledged messages deleted by the journal's retention", durable.ErrOutOfRange, lost)})
}

// readyPeerLocked returns the next peer in turn with room, or nil.
func (q *qsender) readyPeerLocked() *qpeer {
	n := len(q.peers)
	for i := 0; i < n; i++ {
		k := (q.rr + i) % n
		qp := q.peers[k]
		if (qp.profile && qp.inflight < q.window) || (!qp.profile && !qp.full) {
			q.rr = (k + 1) % n
			return qp
		}
	}
	return nil
}

// reserveLocked marks c's message as going out to c's peer.
func (q *qsender) reserveLocked(c choice) choice {
	c.m.peer = c.peer
	c.peer.inflight++
	return c
}

// unreserve undoes reserveLocked for a message that did not go out; it
// waits again, in front.
func (q *qsender) unreserveLocked(c choice) {
	if c.m.revoking() {
		// It never reached c.peer: nothing there to drop.
		q.answeredLocked(c.off, c.m, c.peer)
		return
	}
	if c.m.peer == c.peer {
		c.peer.inflight--
		c.m.peer = nil
	}
	heap.Push(&q.redo, c.off)
}

// expireLocked takes back messages in flight at a profile peer for
// longer than the ack timeout, scanning every quarter of the timeout (at
// most every second), and returns when to scan next (0: nothing in
// flight).
func (q *qsender) expireLocked(now int64) int64 {
	timeout := int64(q.opts.ackTimeout)
	if now >= q.nextScan {
		inflight := false
		for off, m := range q.msgs {
			if m.revoking() {
				// Holders that do not answer within the ack timeout are
				// given up on.
				if m.sentAt+timeout <= now {
					q.finishRevokeLocked(off, m)
				} else {
					inflight = true
				}
				continue
			}
			if m.peer == nil || !m.peer.profile {
				continue
			}
			if m.sentAt+timeout > now {
				inflight = true
				continue
			}
			// Its copy may still be unread there: revoked too if another
			// receiver acknowledges it.
			m.others = addPeer(m.others, m.peer)
			m.peer.inflight--
			m.peer = nil
			q.ctr.timedOut++
			heap.Push(&q.redo, off)
		}
		q.nextScan = 0
		if inflight {
			q.nextScan = now + min(timeout/4, int64(time.Second))
		}
	}
	return q.nextScan
}

func minDeadline(a, b int64) int64 {
	if a == 0 || b < a {
		return b
	}
	return a
}

// readFailed handles a record that could not be read.
func (q *qsender) readFailed(c choice, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if errors.Is(err, durable.ErrOutOfRange) {
		// Deleted by retention under us: lost, and reported.
		if c.m.peer == c.peer {
			c.peer.inflight--
		}
		delete(q.msgs, c.off)
		q.ctr.lost++
		q.checkRetentionLocked()
		q.s.mon.emit(Event{Type: EventJournalGap, Count: 1, Err: err})
		return
	}
	q.unreserveLocked(c)
	if !errors.Is(err, durable.ErrClosed) {
		// A damaged or unreadable journal: report it and try again later
		// rather than spin (the message stays queued, nothing is skipped).
		q.s.log.Warn("journal read", "offset", c.off, "err", err)
		q.s.mon.emit(Event{Type: EventJournalGap, Err: err})
		q.pause = time.Now().Add(time.Second).UnixNano()
	}
}

// deliver sends a record to the peer picked for it.
func (q *qsender) deliver(c choice, jr jrecord) {
	now := time.Now().UnixNano()
	q.mu.Lock()
	if c.peer.gone || c.m.peer != c.peer {
		// The peer left (its in-flight went back to the queue) or the
		// message was acknowledged meanwhile.
		if c.m.peer == c.peer {
			c.m.peer = nil
		}
		if q.msgs[c.off] == c.m {
			heap.Push(&q.redo, c.off)
		}
		q.mu.Unlock()
		return
	}
	if c.m.revoking() {
		// Acknowledged by another receiver before it went out: it never
		// will.
		q.answeredLocked(c.off, c.m, c.peer)
		q.mu.Unlock()
		return
	}
	if jr.notBefore > now {
		c.peer.inflight--
		c.m.peer = nil
		c.m.notBefore = jr.notBefore
		heap.Push(&q.delayed, delayEntry{off: c.off, at: jr.notBefore})
		q.mu.Unlock()
		return
	}
	if limit := q.opts.maxDeliver; limit > 0 && int(c.m.count) >= limit {
		q.mu.Unlock()
		q.deadLetter(c, jr, fmt.Sprintf("delivered %d times", c.m.count))
		return
	}
	c.m.count++
	c.m.sentAt = now
	count := c.m.count
	if count > 1 {
		q.ctr.redelivered++
	}
	q.ctr.delivered++
	if c.peer.profile && q.nextScan == 0 {
		q.nextScan = now + min(int64(q.opts.ackTimeout)/4, int64(time.Second))
	}
	floor := q.cur.Offset()
	q.mu.Unlock()

	if !c.peer.profile {
		if c.peer.p.TrySend(jr.msg()) {
			q.mu.Lock()
			if q.msgs[c.off] == c.m && c.m.peer == c.peer {
				c.peer.inflight--
				delete(q.msgs, c.off)
				q.ctr.plainDelivered++
			}
			q.mu.Unlock()
			q.commit([]jwire.Range{{Lo: c.off, Hi: c.off + 1}})
			return
		}
		q.mu.Lock()
		c.peer.full = true
		c.m.count--
		q.unreserveLocked(c)
		q.mu.Unlock()
		return
	}
	d := jwire.Data{Offset: c.off, Epoch: q.j.epochOf(c.off), Floor: min(floor, c.off), Count: count, Time: jr.time}
	// A frame list of its own: jr's may be the tail cache's, shared.
	frames := make([][]byte, len(jr.frames))
	frames[0] = jwire.AppendData(make([]byte, 0, jwire.MaxData), d)
	copy(frames[1:], jr.frames[1:])
	if !c.peer.p.sendJournaled(frames, false) {
		q.mu.Lock()
		if c.m.peer == c.peer {
			q.unreserveLocked(c)
		}
		q.mu.Unlock()
	}
}

// deadLetter moves a message to the dead-letter journal and acknowledges
// it. Without a dead-letter journal (a record no socket wrote), it is
// acknowledged, counted and reported.
func (q *qsender) deadLetter(c choice, jr jrecord, reason string) {
	q.mu.Lock()
	if c.m.peer == c.peer {
		c.peer.inflight--
		c.m.peer = nil
	}
	count := c.m.count
	q.mu.Unlock()
	if dlq := q.opts.deadLetters; dlq != nil && jr.frames != nil {
		dl := DeadLetter{ID: MsgID{Journal: q.j.id, Epoch: q.j.epochOf(c.off), Offset: c.off},
			Deliveries: int(count), Reason: reason, Time: time.Now(), Journaled: time.Unix(0, jr.time)}
		if _, err := dlq.AppendMsg(context.Background(), deadLetterFrames(dl, jr.msg())); err != nil {
			// Keep the message: it is delivered again and retried here.
			q.s.log.Warn("dead-letter journal", "offset", c.off, "err", err)
			q.mu.Lock()
			if q.msgs[c.off] == c.m {
				heap.Push(&q.delayed, delayEntry{off: c.off, at: time.Now().Add(time.Second).UnixNano()})
			}
			q.mu.Unlock()
			return
		}
	}
	q.mu.Lock()
	if q.msgs[c.off] == c.m {
		delete(q.msgs, c.off)
	}
	q.ctr.deadLettered++
	q.mu.Unlock()
	q.commit([]jwire.Range{{Lo: c.off, Hi: c.off + 1}})
	q.s.mon.emit(Event{Type: EventDeadLetter, Count: 1, Err: fmt.Errorf("brook: message %d dead-lettered: %s", c.off, reason)})
}

// stats returns the queue's counters and levels.
func (q *qsender) stats() JournalStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := JournalStats{
		Delivered: q.ctr.delivered, Redelivered: q.ctr.redelivered, Acked: q.ctr.acked,
		Nacked: q.ctr.nacked, TimedOut: q.ctr.timedOut, PlainDelivered: q.ctr.plainDelivered,
		DeadLettered: q.ctr.deadLettered, Lost: q.ctr.lost,
	}
	for _, m := range q.msgs {
		switch {
		case m.peer != nil:
			st.InFlight++
		case m.notBefore > 0:
			st.Delayed++
		}
	}
	st.Floor = q.cur.Offset()
	return st
}

// offsetHeap is a min-heap of offsets.
type offsetHeap []uint64

func (h offsetHeap) Len() int           { return len(h) }
func (h offsetHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h offsetHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *offsetHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *offsetHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// delayEntry is an offset due at a time.
type delayEntry struct {
	off uint64
	at  int64
}

// delayHeap is a min-heap of delayEntry by time.
type delayHeap []delayEntry

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(delayEntry)) }
func (h *delayHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
