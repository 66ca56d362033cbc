package jbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brookmq/brook/socket"
)

// replayTarget is issue 10's goal per subscriber at 64 B.
const replayTarget = 1_000_000

// replay measures one size of the replay workload. A journaled PUB gets
// --count messages (the publish rate is a figure too); the bare journal
// reads them back; a SUB from the oldest replays them; then, while the
// PUB publishes live at --live-rate, another SUB catches up from the
// oldest, that far behind.
func (e *env) replay(ctx context.Context, size int) (Section, error) {
	n := e.cfg.Count
	s := Section{Title: fmt.Sprintf("replay %d B: %d messages in the journal", size, n), Size: size}
	log, err := e.openLog("replay")
	if err != nil {
		return s, err
	}
	defer log.Close()
	pub, err := socket.New(socket.Pub, e.socketOptions(socket.WithJournal(log))...)
	if err != nil {
		return s, err
	}
	defer pub.Close()
	if err := pub.Bind(e.endpoint("replay")); err != nil {
		return s, err
	}
	fill, err := e.publish(ctx, pub, size, 0, n)
	s.Figures = append(s.Figures, fill)
	if err != nil {
		return s, err
	}
	read, err := e.readAll(ctx, log, n)
	s.Figures = append(s.Figures, read)
	if err != nil {
		return s, err
	}
	rep, err := e.replayOne(ctx, pub.LastEndpoint(), n)
	s.Figures = append(s.Figures, rep)
	if err != nil {
		return s, err
	}
	catch, err := e.catchUp(ctx, pub, size, n)
	s.Figures = append(s.Figures, catch...)
	if err != nil {
		return s, err
	}
	s.Ratios = []Ratio{ratio("replay/journal Reader", rep, read)}
	if size <= 64 {
		s.Targets = []Target{target("replay per subscriber, msgs/s (issue 10, 64 B)", replayTarget, rep.MsgsPerSec)}
	}
	return s, nil
}

// publish sends messages from..to-1 with SendAsync from one goroutine and
// waits until the last is durable.
func (e *env) publish(ctx context.Context, pub *socket.Socket, size int, from, to int64) (Figure, error) {
	f := Figure{Name: "journaled PUB, SendAsync until durable, no subscriber"}
	cpu := startCPU()
	start := e.now()
	var last socket.Pending
	for i := from; i < to; i++ {
		p, err := pub.SendAsync(ctx, socket.NewMsg(newMsg(size, uint64(i), e.now())))
		if err != nil {
			return f, fmt.Errorf("publish: %w", err)
		}
		last = p
	}
	if err := last.Wait(ctx); err != nil {
		return f, fmt.Errorf("publish: %w", err)
	}
	f.setRate(to-from, time.Duration(e.now()-start))
	cpu.charge(&f)
	return f, nil
}

// subscribe connects a new SUB, subscribed to everything, that starts at
// the publisher's oldest message.
func (e *env) subscribe(ep string, start socket.Start) (*socket.Socket, error) {
	sub, err := socket.New(socket.Sub, e.socketOptions(socket.WithStart(start))...)
	if err != nil {
		return nil, err
	}
	if err := sub.Subscribe(nil); err != nil {
		sub.Close()
		return nil, err
	}
	if err := sub.Connect(ep); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// replayOne replays the journal's n messages to one new SUB; the rate
// runs from its first message received to its last.
func (e *env) replayOne(ctx context.Context, ep string, n int64) (Figure, error) {
	f := Figure{Name: "SUB replaying from the oldest (page cache)", Lossless: true}
	sub, err := e.subscribe(ep, socket.StartOldest())
	if err != nil {
		return f, err
	}
	defer sub.Close()
	cpu := startCPU()
	connected := e.now()
	t := newTally()
	var first, last int64
	for int64(t.received) < n {
		m, err := sub.Recv(ctx)
		if err != nil {
			return f, fmt.Errorf("replay: %w", err)
		}
		last = e.now()
		if first == 0 {
			first = last
		}
		seq, sent, ok := parseMsg(m.Frames[0])
		if !ok {
			return f, errors.New("replay: short message")
		}
		t.add(seq, sent, last)
	}
	t.end(uint64(n))
	t.figure(&f)
	f.setRate(n, time.Duration(last-first))
	cpu.charge(&f)
	f.Note = fmt.Sprintf("%.1f ms from connect to the first message", float64(first-connected)/1e6)
	return f, nil
}

// catchUp starts publishing live at --live-rate, then connects a SUB at
// the oldest message, n behind, and measures how long it takes to read
// what was there when it connected, and to reach the live head.
func (e *env) catchUp(ctx context.Context, pub *socket.Socket, size int, n int64) ([]Figure, error) {
	backlog := Figure{Name: fmt.Sprintf("SUB catching up from %d behind, backlog read", n), Lossless: true}
	head := Figure{Name: "SUB catching up, at the live head", Lossless: true}
	out := func() []Figure { return []Figure{backlog, head} }
	liveCtx, stopLive := context.WithCancel(ctx)
	var published atomic.Int64 // messages published and durable so far
	published.Store(n)
	var lerr error
	var wg sync.WaitGroup
	if rate := e.j.LiveRate; rate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lerr = e.publishLive(liveCtx, pub, size, n, rate, &published)
		}()
	}
	defer func() {
		stopLive()
		wg.Wait()
	}()

	sub, err := e.subscribe(pub.LastEndpoint(), socket.StartOldest())
	if err != nil {
		return out(), err
	}
	defer sub.Close()
	cpu := startCPU()
	start := e.now()
	t := newTally()
	var backlogAt, headAt int64
	for headAt == 0 {
		m, err := sub.Recv(ctx)
		if err != nil {
			return out(), fmt.Errorf("catch up: %w", err)
		}
		now := e.now()
		seq, sent, ok := parseMsg(m.Frames[0])
		if !ok {
			return out(), errors.New("catch up: short message")
		}
		t.add(seq, sent, now)
		if seq == uint64(n-1) {
			backlogAt = now
		}
		if backlogAt != 0 && int64(seq)+1 >= published.Load() {
			headAt = now
		}
	}
	stopLive()
	wg.Wait()
	if lerr != nil && !errors.Is(lerr, context.Canceled) {
		return out(), fmt.Errorf("live publishing: %w", lerr)
	}
	backlog.setRate(n, time.Duration(backlogAt-start))
	t.figure(&backlog)
	head.setRate(int64(t.received), time.Duration(headAt-start))
	cpu.charge(&head)
	head.Note = fmt.Sprintf("%.3f s from connect, with %d published live meanwhile at %.0f msgs/s", head.Seconds, int64(t.received)-n, e.j.LiveRate)
	backlog.Note = "rate from connect to the last message that was there"
	return out(), nil
}

// publishLive publishes from seq on at rate msgs/s until ctx ends,
// keeping published at the count of messages durable.
func (e *env) publishLive(ctx context.Context, pub *socket.Socket, size int, seq int64, rate float64, published *atomic.Int64) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for first := seq; ; {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		due := first + int64(time.Since(start).Seconds()*rate)
		var last socket.Pending
		sent := false
		for ; seq < due; seq++ {
			p, err := pub.SendAsync(ctx, socket.NewMsg(newMsg(size, uint64(seq), e.now())))
			if err != nil {
				return err
			}
			last, sent = p, true
		}
		if sent {
			if err := last.Wait(ctx); err != nil {
				return err
			}
			published.Store(seq)
		}
	}
}
