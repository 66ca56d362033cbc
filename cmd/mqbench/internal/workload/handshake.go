package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// Handshake pacing for pubsub, whose PUB drops what no subscriber is
// there to take.
const (
	// helloRepeat is how often a publisher says Hello until every
	// subscriber answered Ready.
	helloRepeat = 10 * time.Millisecond
	// endRepeat is how often a publisher repeats End until every
	// subscriber acknowledged it.
	endRepeat = 50 * time.Millisecond
)

// handshake sends h from driver d again and again, every `every`, until n
// distinct subscribers have answered with kind ack (same phase) on the
// return path; only the run's end stops it. A failure ends the run, so
// the reading goroutine always ends before handshake returns and never
// competes with a later reader.
func (r *runner) handshake(ctx context.Context, d *end, snd *sender, h payload.Header, ack payload.Kind, n int, every time.Duration) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		seen := make(map[uint16]bool, n)
		for len(seen) < n {
			frames, err := d.ret.Recv(hctx)
			if err != nil {
				done <- err
				return
			}
			a, err := payload.Parse(frames[len(frames)-1])
			if err != nil {
				done <- fmt.Errorf("return path: %w", err)
				return
			}
			if a.Kind == ack && a.Phase == h.Phase {
				seen[a.Stream] = true
			}
		}
		done <- nil
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	fail := func(err error) error {
		r.fail(err)
		cancel()
		<-done
		return err
	}
	for {
		h.Sent = time.Now().UnixNano()
		if err := d.data.Send(ctx, snd.message(&h, payload.HeaderSize)); err != nil {
			return fail(fmt.Errorf("send %s: %w", h.Kind, err))
		}
		flush(d.data)
		select {
		case err := <-done:
			if err != nil {
				r.fail(err)
			}
			return err
		case <-tick.C:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}

// answer sends a control message of kind k from sink s on the return
// path.
func (r *runner) answer(ctx context.Context, s *end, snd *sender, k payload.Kind, phase int) error {
	h := payload.Header{Kind: k, Stream: uint16(s.index), Phase: uint8(phase), Sent: time.Now().UnixNano()}
	if err := s.ret.Send(ctx, snd.message(&h, payload.HeaderSize)); err != nil {
		return fmt.Errorf("send %s: %w", k, err)
	}
	flush(s.ret)
	return nil
}
