package jbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/socket"
)

// queueTarget is issue 9's goal: end to end from one sending goroutine.
const queueTarget = 150_000

// queue measures one size of the queue workload: the bare journal, an
// unjournaled PUSH, and the journaled PUSH, in that order.
func (e *env) queue(ctx context.Context, size int) (Section, error) {
	n := e.cfg.Count
	s := Section{Title: fmt.Sprintf("queue %d B: one sending goroutine unless said otherwise", size), Size: size}
	many, err := e.appendConcurrent(ctx, size, n, e.j.Appenders)
	s.Figures = append(s.Figures, many)
	if err != nil {
		return s, err
	}
	one, err := e.appendAsync(ctx, size, n)
	s.Figures = append(s.Figures, one)
	if err != nil {
		return s, err
	}
	plain, err := e.pushPull(ctx, size, n)
	s.Figures = append(s.Figures, plain)
	if err != nil {
		return s, err
	}
	jq, err := e.journaledQueue(ctx, size, n, 0)
	s.Figures = append(s.Figures, jq...)
	if err != nil {
		return s, err
	}
	end := jq[len(jq)-1]
	if rate := e.j.Rate; rate > 0 {
		// The same at a fixed pace below saturation: latency without the
		// queue a closed loop builds up.
		paced, err := e.journaledQueue(ctx, size, n, rate)
		f := paced[len(paced)-1]
		f.Name = fmt.Sprintf("journaled PUSH -> PULL acks, open loop at %s msgs/s", num(rate))
		f.Latency = append(paced[1].Latency, f.Latency...)
		s.Figures = append(s.Figures, f)
		if err != nil {
			return s, err
		}
	}
	s.Ratios = []Ratio{
		ratio("journaled/AppendAsync", end, one),
		ratio(fmt.Sprintf("journaled/Append x%d", e.j.Appenders), end, many),
		ratio("journaled/PUSH", end, plain),
	}
	s.Targets = []Target{target("journaled PUSH end to end, msgs/s (issue 9)", queueTarget, end.MsgsPerSec)}
	return s, nil
}

// pushPull sends n messages from one goroutine over a PUSH without a
// journal to a PULL.
func (e *env) pushPull(ctx context.Context, size int, n int64) (Figure, error) {
	f := Figure{Name: "PUSH -> PULL, no journal"}
	pull, push, err := e.pair("push", socket.Pull, nil, socket.Push, nil)
	if err != nil {
		return f, err
	}
	defer pull.Close()
	defer push.Close()
	t := newTally()
	var last int64
	var rerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for t.received < uint64(n) {
			m, err := pull.Recv(ctx)
			if err != nil {
				rerr = err
				return
			}
			last = e.now()
			seq, sent, ok := parseMsg(m.Frames[0])
			if !ok {
				rerr = errors.New("short message")
				return
			}
			t.add(seq, sent, last)
		}
	}()
	cpu := startCPU()
	start := e.now()
	for i := range n {
		if err := push.Send(ctx, socket.NewMsg(newMsg(size, uint64(i), e.now()))); err != nil {
			return f, fmt.Errorf("send: %w", err)
		}
	}
	<-done
	if rerr != nil {
		return f, fmt.Errorf("receive: %w", rerr)
	}
	t.end(uint64(n))
	t.figure(&f)
	f.setRate(n, time.Duration(last-start))
	cpu.charge(&f)
	f.latency("send-to-receive", t.latency)
	f.Lossless = true
	return f, nil
}

// journaledQueue sends n messages from one goroutine with SendAsync over
// a journaled PUSH to a PULL that acknowledges each, as fast as it can or
// at rate msgs/s. It returns three figures over the same messages: the
// rate at which SendAsync returned, the rate until the last was durable,
// and the rate end to end (until the sender had every acknowledgement).
func (e *env) journaledQueue(ctx context.Context, size int, n int64, rate float64) ([]Figure, error) {
	sendF := Figure{Name: "journaled PUSH, SendAsync returned"}
	durF := Figure{Name: "journaled PUSH, durable (Pending.Wait)"}
	endF := Figure{Name: "journaled PUSH -> PULL acks, end to end", Lossless: true}
	out := func() []Figure { return []Figure{sendF, durF, endF} }
	pull, push, err := e.pair("jpush", socket.Pull, nil, socket.Push,
		[]socket.Option{socket.WithJournalDir(e.subdir("queue"), e.logOptions()...)})
	if err != nil {
		return out(), err
	}
	defer pull.Close()
	defer push.Close()

	// Receiver: acknowledges every message after reading it.
	t := newTally()
	var rerr error
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for t.received < uint64(n) {
			d, err := pull.RecvDelivery(ctx)
			if err != nil {
				rerr = err
				return
			}
			seq, sent, ok := parseMsg(d.Msg.Frames[0])
			if !ok {
				rerr = errors.New("short message")
				return
			}
			t.add(seq, sent, e.now())
			if err := d.Ack(); err != nil {
				rerr = err
				return
			}
		}
	}()

	// Completers: send-to-durable in offset order; send-to-ack by rounds
	// of WaitAcked, each covering what was sent before it began. WaitAcked
	// waits only for what is durable when it is called (the journal's
	// End), not for everything SendAsync took, so a round first waits
	// until its last message is durable.
	type progress struct {
		sent int64          // messages sent so far
		last socket.Pending // the last of them
	}
	t0 := make([]int64, n)
	pending := make(chan socket.Pending, 1<<16)
	sentCh := make(chan progress, 1)
	durLat, ackLat := stats.NewHistogram(), stats.NewHistogram()
	var lastDurable, lastAck int64
	var derr, aerr error
	go func() {
		defer wg.Done()
		var i int64
		for p := range pending {
			if derr == nil {
				derr = p.Wait(ctx)
			}
			lastDurable = e.now()
			durLat.Record(lastDurable - t0[i])
			i++
		}
	}()
	go func() {
		defer wg.Done()
		var acked int64
		var cur progress
		for acked < n {
			for cur.sent == acked {
				var ok bool
				if cur, ok = <-sentCh; !ok {
					return
				}
			}
			select { // the newest progress, if there is one
			case p, ok := <-sentCh:
				if ok {
					cur = p
				}
			default:
			}
			if aerr = cur.last.Wait(ctx); aerr != nil {
				return
			}
			if aerr = push.WaitAcked(ctx); aerr != nil {
				return
			}
			lastAck = e.now()
			for ; acked < cur.sent; acked++ {
				ackLat.Record(lastAck - t0[acked])
			}
		}
	}()

	cpu := startCPU()
	start := e.now()
	var serr error
	for i := range n {
		if rate > 0 && i%64 == 0 {
			due := start + int64(float64(i)/rate*1e9)
			if d := due - e.now(); d > 0 {
				time.Sleep(time.Duration(d))
			}
		}
		t0[i] = e.now()
		p, err := push.SendAsync(ctx, socket.NewMsg(newMsg(size, uint64(i), t0[i])))
		if err != nil {
			serr = fmt.Errorf("send: %w", err)
			break
		}
		pending <- p
		// Tell the ack completer how far the sends went: replace what it
		// has not taken yet (only this goroutine sends on sentCh).
		select {
		case <-sentCh:
		default:
		}
		sentCh <- progress{i + 1, p}
	}
	sendF.setRate(n, time.Duration(e.now()-start))
	close(pending)
	if serr != nil {
		close(sentCh) // the ack completer stops
		pull.Close()  // and the receiver
		wg.Wait()
		return out(), serr
	}
	wg.Wait()
	close(sentCh)
	if err := errors.Join(wrap("receive", rerr), wrap("wait durable", derr), wrap("wait acked", aerr)); err != nil {
		return out(), err
	}
	durF.setRate(n, time.Duration(lastDurable-start))
	durF.latency("send-to-durable", durLat)
	endF.setRate(n, time.Duration(lastAck-start))
	cpu.charge(&endF)
	endF.latency("send-to-ack", ackLat)
	endF.latency("send-to-receive", t.latency)
	t.end(uint64(n))
	t.figure(&endF)
	if st := push.Stats().Journal; st.Redelivered > 0 || st.Lost > 0 {
		endF.Note = fmt.Sprintf("%d redelivered, %d lost by the journal", st.Redelivered, st.Lost)
	}
	return out(), nil
}

// wrap prefixes err with what failed, keeping nil nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
