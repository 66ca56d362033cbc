package jbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// fanoutTarget is issue 10's goal: live fan-out with the journal at least
// this fraction of the rate without.
const fanoutTarget = 0.7

// fanoutIdle ends a subscriber that heard nothing for this long after the
// publisher finished: what it did not get by then was dropped. It is long
// because a silent subscriber is not necessarily done: on a loaded machine
// (100 subscribers on two cores) one may wait its turn for a second or
// more while the others drain, and a shorter wait counted it as loss.
const fanoutIdle = 30 * time.Second

// fanout measures one size with each subscriber count of --fanout: a PUB
// without a journal, then with one, the same messages to the same number
// of live SUBs.
func (e *env) fanout(ctx context.Context, size int) ([]Section, error) {
	var secs []Section
	for _, k := range e.j.Fanout {
		s := Section{Title: fmt.Sprintf("fanout %d B to %d subscribers, %d messages published from one goroutine", size, k, e.cfg.Count), Size: size}
		plain, err := e.fanoutRun(ctx, size, k, false, 0)
		s.Figures = append(s.Figures, plain...)
		if err == nil {
			var jour []Figure
			jour, err = e.fanoutRun(ctx, size, k, true, 0)
			s.Figures = append(s.Figures, jour...)
			if err == nil {
				r := ratio("journal/no journal, per subscriber", jour[0], plain[0])
				s.Ratios = []Ratio{r}
				s.Targets = []Target{target("live fan-out with the journal / without (issue 10)", fanoutTarget, r.Value)}
			}
		}
		if err == nil {
			var batched []Figure
			batched, err = e.fanoutRun(ctx, size, k, true, fanoutBatch)
			s.Figures = append(s.Figures, batched...)
			if err == nil {
				r := ratio(fmt.Sprintf("journal, SendBatchAsync of %d/no journal, per subscriber", fanoutBatch), batched[0], plain[0])
				s.Ratios = append(s.Ratios, r)
				s.Targets = append(s.Targets, target("live fan-out with the journal, batched sends / without", fanoutTarget, r.Value))
			}
		}
		secs = append(secs, s)
		if err != nil {
			return secs, err
		}
	}
	return secs, nil
}

// fanoutBatch is how many messages the batched journal run publishes
// with one SendBatchAsync.
const fanoutBatch = 64

// fanSub is one subscriber's side of a fan-out run.
type fanSub struct {
	sub   *socket.Socket
	t     *tally
	ready atomic.Bool
	got   atomic.Uint64 // data messages, for the idle check
	last  int64         // receive time of the last data message
	err   error
}

// fanoutRun publishes --count messages to k live subscribers and returns
// two figures (without a journal and --hwm, the PUB's send high-water
// mark is raised to the count, so that both runs deliver everything):
// per subscriber (the mean delivered rate) and over all of them. The
// rate runs from the first message published to the last one received
// by any subscriber. With batch > 0 (journaled) the messages are
// published batch at a time with SendBatchAsync.
func (e *env) fanoutRun(ctx context.Context, size, k int, journaled bool, batch int) ([]Figure, error) {
	n := e.cfg.Count
	label := "PUB without journal"
	if journaled {
		label = "PUB with journal"
	}
	if batch > 0 {
		label = fmt.Sprintf("PUB with journal, SendBatchAsync of %d", batch)
	}
	per := Figure{Name: label + ", per subscriber", Lossless: journaled}
	all := Figure{Name: label + ", all subscribers"}
	out := func() []Figure { return []Figure{per, all} }

	var opts []socket.Option
	if !journaled && e.cfg.HWM == 0 {
		// Without a journal a PUB drops at its high-water mark; room for
		// every message makes the baseline lossless, like the journal.
		opts = append(opts, socket.WithSendHWM(int(n)+1))
		per.Note = "send HWM raised to the count: nothing dropped"
	}
	var log *durable.Log
	if journaled {
		var err error
		log, err = e.openLog("fanout")
		if err != nil {
			return out(), err
		}
		defer log.Close() // after the PUB (defers run last first)
		opts = append(opts, socket.WithJournal(log))
	}
	pub, err := socket.New(socket.Pub, e.socketOptions(opts...)...)
	if err != nil {
		return out(), err
	}
	defer pub.Close()
	if err := pub.Bind(e.endpoint("fanout")); err != nil {
		return out(), err
	}
	send := func(m socket.Msg) error { return pub.Send(ctx, m) }
	if journaled {
		send = func(m socket.Msg) error { _, err := pub.SendAsync(ctx, m); return err }
	}

	// drain ends the subscribers once they are idle after the publisher
	// finished.
	drain, stop := context.WithCancel(ctx)
	defer stop()
	subs := make([]*fanSub, k)
	var wg sync.WaitGroup
	for i := range subs {
		sub, err := e.subscribe(pub.LastEndpoint(), socket.StartLive())
		if err != nil {
			return out(), err
		}
		defer sub.Close()
		fs := &fanSub{sub: sub, t: newTally()}
		subs[i] = fs
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.fanReceive(drain, fs, n)
		}()
	}

	// Readiness: hello until every subscriber heard one, so none misses
	// the first data message (the slow joiner).
	for ready := 0; ready < k; {
		if err := send(socket.NewMsg(newMsg(size, helloSeq, 0))); err != nil {
			return out(), fmt.Errorf("hello: %w", err)
		}
		time.Sleep(time.Millisecond)
		ready = 0
		for _, fs := range subs {
			if fs.ready.Load() {
				ready++
			}
		}
		if ctx.Err() != nil {
			return out(), fmt.Errorf("waiting for %d subscribers: %w", k, ctx.Err())
		}
	}

	var written time.Duration
	if log != nil {
		written = log.Stats().WriteTime
	}
	// What the PUB drops at its high-water mark it drops as it sends:
	// counted from here, those deliveries are settled and need no wait.
	hwmDrops := func() uint64 { return pub.Stats().Dropped[socket.DropHWM] }
	dropsBefore := hwmDrops()
	cpu := startCPU()
	start := e.now()
	if batch > 0 {
		msgs := make([]socket.Msg, 0, batch)
		for i := range n {
			msgs = append(msgs, socket.NewMsg(newMsg(size, uint64(i), e.now())))
			if len(msgs) < batch && i < n-1 {
				continue
			}
			if _, sent, err := pub.SendBatchAsync(ctx, msgs); err != nil {
				stop()
				wg.Wait()
				return out(), fmt.Errorf("publish (%d of a batch of %d sent): %w", sent, len(msgs), err)
			}
			clear(msgs)
			msgs = msgs[:0]
		}
	} else {
		for i := range n {
			if err := send(socket.NewMsg(newMsg(size, uint64(i), e.now()))); err != nil {
				stop()
				wg.Wait()
				return out(), fmt.Errorf("publish: %w", err)
			}
		}
	}
	e.waitIdle(drain, stop, subs, uint64(n), func() uint64 { return hwmDrops() - dropsBefore })
	wg.Wait()

	var received, lost uint64
	var last int64
	var errs []error
	for _, fs := range subs {
		fs.t.end(uint64(n))
		received += fs.t.received - min(fs.t.received, fs.t.duplicates)
		lost += fs.t.lost
		per.Duplicates += fs.t.duplicates
		per.OutOfOrder += fs.t.reordered
		last = max(last, fs.last)
		if fs.err != nil && !errors.Is(fs.err, context.Canceled) {
			errs = append(errs, fs.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out(), fmt.Errorf("subscriber: %w", err)
	}
	d := time.Duration(last - start)
	all.setRate(int64(received), d)
	cpu.charge(&all)
	if log != nil {
		all.WritePerMsg = float64(log.Stats().WriteTime-written) / float64(time.Microsecond) / float64(received)
	}
	per.setRate(n, d)
	per.MsgsPerSec = all.MsgsPerSec / float64(k)
	per.Lost, all.Lost = lost, lost
	if lost > 0 {
		per.Note = fmt.Sprintf("%.1f%% of the deliveries lost", 100*float64(lost)/float64(n*int64(k)))
	}
	all.Note = per.Note
	return out(), nil
}

// fanReceive receives data messages until it has n or drain ends.
func (e *env) fanReceive(drain context.Context, fs *fanSub, n int64) {
	for fs.got.Load() < uint64(n) {
		m, err := fs.sub.Recv(drain)
		if err != nil {
			fs.err = err
			return
		}
		now := e.now()
		seq, sent, ok := parseMsg(m.Frames[0])
		switch {
		case !ok:
			fs.err = errors.New("short message")
			return
		case seq == helloSeq:
			fs.ready.Store(true)
			continue
		}
		fs.t.add(seq, sent, now)
		fs.last = now
		fs.got.Add(1)
	}
}

// waitIdle returns once every subscriber's messages are received or
// dropped at the publisher (dropped tells how many), or none got a
// message for fanoutIdle; then it stops the rest.
func (e *env) waitIdle(drain context.Context, stop func(), subs []*fanSub, n uint64, dropped func() uint64) {
	defer stop()
	var total, seen uint64
	quiet := time.Now()
	for {
		total = 0
		for _, fs := range subs {
			total += fs.got.Load()
		}
		if total+dropped() >= n*uint64(len(subs)) {
			return
		}
		if total != seen {
			seen, quiet = total, time.Now()
		}
		if time.Since(quiet) > fanoutIdle || drain.Err() != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
