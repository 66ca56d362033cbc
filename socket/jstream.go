package socket

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// go-zeromq) get the live stream from the pattern, with ZeroMQ's drops.
type publisher struct {
	s     *Socket
	j     *journal
	cache *tailCache

	mu      sync.Mutex
	feeders map[*pipe]*feeder
	closed  bool
	wg      sync.WaitGroup
	ctr     streamCounters
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

	mu      sync.Mutex
	topics  patterns.Trie
	started bool
}

func newPublisher(s *Socket, j *journal) *publisher {
	return &publisher{s: s, j: j, cache: newTailCache(), feeders: make(map[*pipe]*feeder)}
}

// send journals m and fans it out to plain subscribers through the
// pattern; with wait it returns once m is durable (and plain subscribers
// get it only then).
func (pb *publisher) send(ctx context.Context, m Msg, wait bool) (Pending, error) {
	p, frames, ts, err := pb.j.append(ctx, m, time.Time{})
	if err != nil {
		return Pending{}, err
	}
	pb.cache.put(p.id.Offset, ts, frames)
	if wait {
		if err := p.Wait(ctx); err != nil {
			return p, journalError(err)
		}
	}
	// Plain subscribers: ZeroMQ's live fan-out. Profile subscribers'
	// pipes ignore it (pipe.jfed): their feeders send from the journal.
	if err := pb.s.snd.Send(ctx, m); err != nil {
		return p, err
	}
	return p, nil
}

// attach prepares the feeder of a profile subscriber; it starts on JSUB.
func (pb *publisher) attach(p *pipe) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if pb.closed || pb.feeders[p] != nil {
		return
	}
	p.jfed.Store(true)
	pb.feeders[p] = &feeder{pub: pb, p: p, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// detach stops p's feeder and waits for it.
func (pb *publisher) detach(p *pipe) {
	pb.mu.Lock()
	f := pb.feeders[p]
	delete(pb.feeders, p)
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
	hwm := journalWindow(pb.s.opts.sendHWM)
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		if next >= log.DurableEnd() {
			// Take the change channel before looking again, so a batch
			// made durable in between is not missed.
			changed := log.Changed()
			if next < log.DurableEnd() {
				continue
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
		if f.p.journalQueued() >= hwm {
			select {
			case <-f.wake:
			case <-f.stop:
				return
			}
			continue
		}
		frames, ok := pb.cache.get(next)
		if !ok {
			if rd == nil {
				rd = log.NewReader(next)
			} else if rd.Offset() != next {
				rd.Seek(next)
			}
			rec, err := rd.Next(context.Background())
			if err != nil {
				if errors.Is(err, durable.ErrOutOfRange) {
					// Retention deleted it under us: skip to what is left
					// and say so.
					gone := log.First() - next
					pb.s.mon.emit(Event{Type: EventJournalGap, Count: int(gone), Err: err})
					next = log.First()
					continue
				}
				if !errors.Is(err, durable.ErrClosed) {
					pb.s.log.Warn("journal read", "offset", next, "err", err)
					pb.s.mon.emit(Event{Type: EventJournalGap, Err: err})
				}
				return
			}
			if frames, err = rec.Frames(); err != nil || len(frames) < 2 {
				frames = nil
			}
		}
		jr, err := parseHeaderChecked(next, frames)
		if err != nil || !f.matches(jr.frames[1]) {
			pb.mu.Lock()
			pb.ctr.skipped++
			pb.mu.Unlock()
			next++
			if next-sentTo >= skipEvery {
				if !f.skip(sentTo, next) {
					return
				}
				sentTo = next
			}
			continue
		}
		out := make([][]byte, len(jr.frames))
		out[0] = jwire.AppendStream(make([]byte, 0, jwire.MaxStream),
			jwire.Stream{Offset: next, Epoch: pb.j.epochOf(next), Skip: next - sentTo, Time: jr.time})
		copy(out[1:], jr.frames[1:])
		if !f.p.sendJournaled(out, true) {
			return
		}
		pb.mu.Lock()
		pb.ctr.streamed++
		pb.mu.Unlock()
		next++
		sentTo = next
	}
}

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
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics.Match(first)
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
	pb.mu.Unlock()
	pb.wg.Wait()
}

// stats adds the publisher's counters.
func (pb *publisher) stats(st *JournalStats) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	st.Streamed = pb.ctr.streamed
	st.Filtered = pb.ctr.skipped
	st.Lost += pb.ctr.gaps
	st.Subscribers = len(pb.feeders)
}
