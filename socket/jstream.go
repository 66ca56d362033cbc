package socket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// publisher is the sending side of a journaled PUB or XPUB: the stream
// model. Every message is journaled, then fanned out. Subscribers that
// speak the journal profile (brook SUB and XSUB) are served from the
// journal by a feeder each: from the position they ask for, replay then
// live with no gap and no duplicate (both come from the same journal, in
// offset order), their topic filters applied, never faster than they
// read (a slow subscriber falls behind and catches up from disk instead
// of losing messages at its high-water mark). Other subscribers (libzmq,
// go-zeromq) get the live stream from the pattern, with ZeroMQ's drops;
// while none is connected the publisher skips the pattern's fan-out
// altogether.
type publisher struct {
	s     *Socket
	j     *journal
	cache *tailCache
	// back holds what feeders behind the tail cache read from the
	// journal: subscribers that fell behind together (a burst beyond the
	// cache, a replay many started at once) read each record from disk
	// once between them, not once each.
	back *tailCache

	mu      sync.Mutex
	feeders map[*pipe]*feeder
	plain   map[*pipe]struct{} // connected subscribers that do not speak the profile
	closed  bool
	// plainN is len(plain) and feedN len(feeders), read by send without
	// the lock; fanned counts the messages send handed to the live
	// fan-out.
	plainN  atomic.Int32
	feedN   atomic.Int32
	fanned  atomic.Uint64
	wg      sync.WaitGroup
	ctr     streamCounters
	syncing atomic.Bool // a syncNow is running
}

type streamCounters struct {
	streamed, skipped, gaps uint64
}

// feeder serves one profile subscriber from the journal.
type feeder struct {
	pub  *publisher
	p    *pipe
	wake chan struct{} // a token: room in the pipe, or a new subscription
	stop chan struct{}

	runs bool // the subscriber reads JRUN: one command per batch, not a JSTREAM per message
	// shares: a JRUN's messages go out as the record's own frame list.
	// Not over inproc, where the receiving application gets the very
	// list and could change it under the caches (and later replays).
	shares bool

	mu      sync.Mutex
	topics  patterns.Trie
	all     atomic.Bool // the empty prefix is subscribed: everything matches
	started bool
}

func newPublisher(s *Socket, j *journal) *publisher {
	return &publisher{s: s, j: j, cache: newTailCache(), back: newTailCache(),
		feeders: make(map[*pipe]*feeder), plain: make(map[*pipe]struct{})}
}

// send journals m and fans it out to plain subscribers through the
// pattern, if any is connected; with wait it returns once m is durable
// (and plain subscribers get it only then). It returns m's offset (the
// caller makes the Pending: one copy of it, not one per call level).
func (pb *publisher) send(ctx context.Context, m Msg, wait bool) (uint64, error) {
	off, ts, err := pb.j.appendPlain(ctx, m)
	if err != nil {
		return 0, err
	}
	// The cache must hold what the journal has in flight, or every
	// feeder reads it back from disk (the feeders keep it growing as they
	// fall behind, keepUp, but they only run once records are durable).
	// It keeps m's own frames (Send took them over) and the time.
	rec := cacheRec{frames: m.Frames, ts: ts, bare: true}
	if n := pb.cache.putAhead(off, rec, pb.j.log.DurableEnd()); n > 0 && pb.feedN.Load() > 0 {
		pb.cache.grow(n)
	}
	if wait {
		if err := pb.j.pending(off).Wait(ctx); err != nil {
			return off, journalError(err)
		}
	}
	// Plain subscribers: ZeroMQ's live fan-out. Profile subscribers'
	// pipes ignore it (pipe.jfed): their feeders send from the journal,
	// so without a plain subscriber there is nothing to do. A plain one
	// is counted from its connection on, before the pattern can have its
	// subscriptions, so none of the messages it subscribed to is skipped.
	if pb.plainN.Load() == 0 {
		return off, nil
	}
	pb.fanned.Add(1)
	if err := pb.s.snd.Send(ctx, m); err != nil {
		return off, err
	}
	return off, nil
}

// attach prepares the feeder of a profile subscriber (runs: it reads
// JRUN); it starts on JSUB.
func (pb *publisher) attach(p *pipe, runs bool) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if pb.closed || pb.feeders[p] != nil {
		return
	}
	p.jfed.Store(true)
	pb.feeders[p] = &feeder{pub: pb, p: p, runs: runs, shares: !strings.HasPrefix(p.endpoint, "inproc://"),
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	pb.feedN.Store(int32(len(pb.feeders)))
}

// attachPlain counts a connected subscriber that does not speak the
// profile: send fans out live while there is one. (A dialed pipe may have
// reached a profile subscriber before: it takes the live stream now.)
func (pb *publisher) attachPlain(p *pipe) {
	p.jfed.Store(false)
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if _, ok := pb.plain[p]; ok || pb.closed {
		return
	}
	pb.plain[p] = struct{}{}
	pb.plainN.Store(int32(len(pb.plain)))
}

// detach stops p's feeder, or stops counting p as a plain subscriber.
func (pb *publisher) detach(p *pipe) {
	pb.mu.Lock()
	f := pb.feeders[p]
	delete(pb.feeders, p)
	pb.feedN.Store(int32(len(pb.feeders)))
	if _, ok := pb.plain[p]; ok {
		delete(pb.plain, p)
		pb.plainN.Store(int32(len(pb.plain)))
	}
	pb.mu.Unlock()
	if f != nil {
		close(f.stop)
	}
}

// subscription applies a (un)subscription message from a profile
// subscriber to its feeder's filter.
func (pb *publisher) subscription(p *pipe, m Msg) {
	topic, subscribe, ok := transport.ParseSubscription(m)
	if !ok {
		return
	}
	pb.mu.Lock()
	f := pb.feeders[p]
	pb.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	if subscribe {
		f.topics.Add(topic)
	} else {
		f.topics.Remove(topic)
	}
	f.all.Store(f.topics.Match(nil))
	f.mu.Unlock()
	f.poke()
}

// writable wakes p's feeder: its pipe has room.
func (pb *publisher) writable(p *pipe) {
	pb.mu.Lock()
	f := pb.feeders[p]
	pb.mu.Unlock()
	if f != nil {
		f.poke()
	}
}

func (f *feeder) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// start answers a JSUB: it works out where the stream starts for p, tells
// the subscriber (JSTART, with any gap) and starts the feeder there.
func (pb *publisher) start(p *pipe, sub jwire.Sub) error {
	pb.mu.Lock()
	f := pb.feeders[p]
	closed := pb.closed
	pb.mu.Unlock()
	if f == nil || closed {
		return nil
	}
	f.mu.Lock()
	again := f.started
	f.started = true
	f.mu.Unlock()
	if again {
		return fmt.Errorf("%w: a second JSUB", transport.ErrProtocol)
	}
	log := pb.j.log
	first, end := log.First(), log.DurableEnd()
	info := jwire.StartInfo{}
	from := end
	switch sub.Mode {
	case jwire.StartLive:
	case jwire.StartOldest:
		from = first
	case jwire.StartOffset:
		from = sub.Value
	case jwire.StartTime:
		off, err := log.OffsetAt(time.Unix(0, int64(sub.Value)))
		if err != nil {
			return fmt.Errorf("brook: journal: %w", err)
		}
		from = max(off, first)
	}
	switch {
	case from < first:
		info.Gap = first - from
		from = first
		pb.mu.Lock()
		pb.ctr.gaps += info.Gap
		pb.mu.Unlock()
	case from > log.End():
		// The subscriber had seen records this journal does not have
		// (any more): it was replaced or lost its unsynced tail.
		info.Gap = from - log.End()
		info.Flags |= jwire.StartBeyondEnd
		from = log.End()
	}
	info.First = from
	if !p.sendCommand(jwire.CmdStart, jwire.AppendStart(nil, info)) {
		return nil
	}
	pb.wg.Add(1)
	go f.run(from)
	return nil
}

// run sends the journal to the subscriber from offset from on.
//
// It works in batches of up to feedBatch messages: records come from the
// tail cache (or the journal), their JSTREAM headers and frame lists are
// carved from shared slabs, and the batch enters the pipe under one lock,
// so a message costs a subscriber no allocation and no lock of its own.
func (f *feeder) run(from uint64) {
	pb := f.pub
	defer pb.wg.Done()
	log := pb.j.log
	var rd *durable.Reader
	defer func() {
		if rd != nil {
			rd.Close()
		}
	}()
	next, sentTo := from, from // sentTo: everything below it is settled for the subscriber
	hwm := feedWindow(pb.s.opts.journal, pb.s.opts.sendHWM)
	var (
		batch             [][][]byte
		recs              []jwire.Stream // the batch's records, for a JRUN
		cached            []cacheRec     // what the tail cache held of the batch
		readOffs          []uint64       // what the batch read from the journal, for the back cache
		readFrames        [][][]byte
		hdrs              []byte
		lists             [][]byte
		streamed, skipped uint64
		epoch, epLo, epHi uint64
		haveEpoch         bool
	)
	// flush hands the batch to the pipe and the counters to the publisher.
	flush := func() bool {
		ok := true
		if len(batch) > 0 {
			if f.runs {
				ok = f.p.sendStreamRun(jwire.AppendRun(make([]byte, 0, 32+4*len(recs)), recs), batch)
				recs = recs[:0]
			} else {
				ok = f.p.sendJournaledBatch(batch, true)
			}
			clear(batch)
			batch = batch[:0]
		}
		if streamed > 0 || skipped > 0 {
			pb.mu.Lock()
			pb.ctr.streamed += streamed
			pb.ctr.skipped += skipped
			pb.mu.Unlock()
			streamed, skipped = 0, 0
		}
		return ok
	}
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		end := log.DurableEnd()
		if next >= end {
			if !flush() {
				return
			}
			// Take the change channel before looking again, so a batch
			// made durable in between is not missed.
			changed := log.Changed()
			if next < log.DurableEnd() {
				continue
			}
			if log.End() > next {
				pb.syncNow()
			}
			if next > sentTo && !f.skip(sentTo, next) {
				return
			}
			sentTo = next
			select {
			case <-changed:
			case <-f.wake:
			case <-f.stop:
				return
			}
			continue
		}
		room := hwm - f.p.journalQueued()
		if room <= 0 {
			select {
			case <-f.wake:
			case <-f.stop:
				return
			}
			continue
		}
		// What the tail cache holds of the batch, under one lock; what is
		// read from the journal goes to the back cache at the end of the
		// batch, under one lock too, and the tail cache hears of a miss
		// once a batch.
		first := next
		pb.cache.keepUp(next)
		cached = pb.cache.getRun(next, int(min(uint64(min(room, feedBatch)), end-next)), cached[:0])
		told := false
		for n := min(room, feedBatch); n > 0 && next < end; n-- {
			var rec cacheRec
			ok := false
			if i := next - first; i < uint64(len(cached)) {
				rec, ok = cached[i], true
			}
			if !ok {
				rec.frames, ok = pb.back.get(next)
			}
			if !ok {
				if !told {
					pb.cache.missed(next, end)
					told = true
				}
				if rd == nil {
					rd = log.NewReader(next)
				} else if rd.Offset() != next {
					rd.Seek(next)
				}
				dr, err := rd.Next(context.Background())
				if err != nil {
					if !flush() {
						return
					}
					if errors.Is(err, durable.ErrOutOfRange) {
						// Retention deleted it under us: skip to what is
						// left and say so.
						gone := log.First() - next
						pb.s.mon.emit(Event{Type: EventJournalGap, Count: int(gone), Err: err})
						next = log.First()
						break
					}
					if !errors.Is(err, durable.ErrClosed) {
						pb.s.log.Warn("journal read", "offset", next, "err", err)
						pb.s.mon.emit(Event{Type: EventJournalGap, Err: err})
					}
					return
				}
				frames, err := dr.Frames()
				if err != nil || len(frames) < 2 {
					frames = nil
				} else {
					readOffs = append(readOffs, next)
					readFrames = append(readFrames, frames)
				}
				rec = cacheRec{frames: frames}
			}
			ts, ok := rec.ts, rec.bare
			if !ok {
				if ts, ok = plainRecordTime(rec.frames); !ok {
					jr, err := parseHeaderChecked(next, rec.frames)
					ok, ts = err == nil, jr.time
				}
			}
			if !ok || !f.matches(rec.msg()[0]) {
				skipped++
				next++
				if next-sentTo >= skipEvery {
					if !flush() || !f.skip(sentTo, next) {
						return
					}
					sentTo = next
				}
				continue
			}
			if !haveEpoch || next < epLo || next >= epHi {
				epoch, epLo, epHi = pb.j.epochSpan(next)
				haveEpoch = true
			}
			st := jwire.Stream{Offset: next, Epoch: epoch, Skip: next - sentTo, Time: ts}
			msg := rec.msg()
			var out [][]byte
			if !f.runs || !f.shares {
				k := len(msg) + 1
				if cap(lists)-len(lists) < k {
					lists = make([][]byte, 0, max(k, 4*feedBatch))
				}
				out = lists[len(lists) : len(lists)+k : len(lists)+k]
				lists = lists[:len(lists)+k]
			}
			if f.runs {
				// One JRUN for the batch: its messages share an epoch.
				if len(recs) > 0 && recs[0].Epoch != epoch && !flush() {
					return
				}
				recs = append(recs, st)
				if f.shares {
					// The record's own frames past the header: shared
					// (the caches' and every subscriber's), never
					// changed, so nothing is copied.
					out = msg[:len(msg):len(msg)]
				} else {
					out = out[1:]
					copy(out, msg)
				}
				batch = append(batch, out)
				streamed++
				next++
				sentTo = next
				continue
			}
			if cap(hdrs)-len(hdrs) < jwire.MaxStream {
				hdrs = make([]byte, 0, jwire.MaxStream*feedBatch)
			}
			at := len(hdrs)
			hdrs = jwire.AppendStream(hdrs, st)
			out[0] = hdrs[at:len(hdrs):len(hdrs)]
			copy(out[1:], msg)
			batch = append(batch, out)
			streamed++
			next++
			sentTo = next
		}
		if len(readOffs) > 0 {
			pb.back.putAll(readOffs, readFrames)
			clear(readFrames)
			readOffs, readFrames = readOffs[:0], readFrames[:0]
		}
		if !flush() {
			return
		}
	}
}

// syncNow makes what the journal has written durable, so that feeders
// waiting for it may send it: under the Interval and None sync modes
// records are written before they are durable, and a feeder sends only
// durable ones (a message id never names a record a crash could take
// back). One sync runs at a time for all the feeders.
func (pb *publisher) syncNow() {
	if !pb.syncing.CompareAndSwap(false, true) {
		return
	}
	pb.wg.Add(1)
	go func() {
		defer pb.wg.Done()
		log := pb.j.log
		for {
			if err := log.Sync(); err != nil {
				pb.syncing.Store(false)
				if !errors.Is(err, durable.ErrClosed) {
					pb.s.log.Warn("journal sync", "err", err)
				}
				return
			}
			// A feeder woken by this sync may have asked for another
			// while it was running, and been refused: what was written
			// meanwhile is synced here. A write after the flag is down
			// wakes a feeder that asks again.
			pb.syncing.Store(false)
			if log.End() <= log.DurableEnd() || !pb.syncing.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// feedBatch is how many messages a feeder hands its pipe at once.
const feedBatch = 64

// skipEvery is how many filtered-out offsets a feeder lets pass before it
// tells the subscriber (JSKIP), so a subscriber to a rare topic still
// moves its position on.
const skipEvery = 4096

// skip tells the subscriber that [lo, hi) holds nothing for it.
func (f *feeder) skip(lo, hi uint64) bool {
	return f.p.sendCommand(jwire.CmdSkip, jwire.AppendRanges(nil, []jwire.Range{{Lo: lo, Hi: hi}}))
}

// matches reports whether the subscriber's filter takes a message whose
// first frame is first.
func (f *feeder) matches(first []byte) bool {
	if f.all.Load() {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics.Match(first)
}

// plainRecordTime returns the send time of a record whose header is the
// common one (no delay), and false for any other (parseHeaderChecked
// then decodes it or refuses it). A feeder reads it for every record it
// sends, so it is kept to a few loads and compares.
func plainRecordTime(frames [][]byte) (int64, bool) {
	if len(frames) < 2 {
		return 0, false
	}
	h := frames[0]
	if len(h) != recHeaderLen || h[0] != recHeaderPlain {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(h[1:])), true
}

// parseHeaderChecked decodes a record's frames, refusing what is not a
// socket message (then the record is skipped for every subscriber).
func parseHeaderChecked(off uint64, frames [][]byte) (jrecord, error) {
	if len(frames) < 2 {
		return jrecord{}, fmt.Errorf("%w: offset %d", errRecord, off)
	}
	return parseHeader(off, frames)
}

// close stops every feeder.
func (pb *publisher) close() {
	pb.mu.Lock()
	pb.closed = true
	for p, f := range pb.feeders {
		close(f.stop)
		delete(pb.feeders, p)
	}
	pb.feedN.Store(0)
	pb.mu.Unlock()
	pb.wg.Wait()
}

// stats adds the publisher's counters.
func (pb *publisher) stats(st *JournalStats) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	st.Streamed = pb.ctr.streamed
	st.PlainDelivered = pb.fanned.Load()
	st.Filtered = pb.ctr.skipped
	st.Lost += pb.ctr.gaps
	st.Subscribers = len(pb.feeders)
}
