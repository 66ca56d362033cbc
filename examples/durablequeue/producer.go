package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// producerMain is the producer process: a journaled PUSH bound at
// -endpoint that sends -n messages "K/0" .. "K/n-1" (K: -incarnation),
// then waits until every message in its journal is acknowledged, then
// until SIGTERM. It reports on stdout:
//
//	listening EP
//	journal ID epoch E floor F end N     the journal as it found it
//	ok K LO HI                           messages K/LO..K/HI-1 are durable: their send succeeded
//	sent K N                             all N sent
//	backlog floor F end N inflight I ...  every second while messages wait for acknowledgements
//	acked floor F end N delivered D redelivered R lost L deadlettered X
func producerMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("durablequeue producer", flag.ContinueOnError)
	journal := fs.String("journal", "", "journal directory (kept across restarts)")
	endpoint := fs.String("endpoint", "tcp://127.0.0.1:0", "endpoint to bind")
	inc := fs.Int("incarnation", 1, "this process's number, the first part of every message it sends")
	n := fs.Int("n", 0, "messages to send")
	window := fs.Int("window", 64, "messages sent with SendAsync before waiting until they are durable")
	rate := fs.Float64("rate", 0, "messages per second (0: as fast as possible)")
	segment := fs.Int64("segment", durable.DefaultSegmentSize, "journal segment size in bytes")
	inflight := fs.Int("inflight", socket.DefaultHWM, "messages in flight per worker (the send high-water mark)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *journal == "" || *n < 0 || *window < 1 || *rate < 0 || *inflight < 1 {
		return errors.New("need -journal, -n >= 0, -window >= 1, -inflight >= 1 and -rate >= 0")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out := &lines{w: stdout}

	push, err := socket.New(socket.Push, socket.WithJournalDir(*journal, durable.WithSync(durable.Group), durable.WithSegmentSize(*segment)),
		socket.WithSendHWM(*inflight))
	if err != nil {
		return err
	}
	defer push.Close()
	if err := push.Bind(*endpoint); err != nil {
		return err
	}
	out.printf("listening %s", push.LastEndpoint())
	st := push.Stats().Journal
	out.printf("journal %x epoch %d floor %d end %d", st.ID, st.Epoch, st.Floor, st.End)

	if err := produce(ctx, push, out, *inc, *n, *window, *rate); err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop
		}
		return err
	}
	out.printf("sent %d %d", *inc, *n)
	if err := waitAcked(ctx, push, out); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	st = push.Stats().Journal
	out.printf("acked floor %d end %d delivered %d redelivered %d lost %d deadlettered %d",
		st.Floor, st.End, st.Delivered, st.Redelivered, st.Lost, st.DeadLettered)
	<-ctx.Done()
	return push.Close()
}

// waitAcked waits until every journaled message is acknowledged,
// reporting the backlog every second meanwhile.
func waitAcked(ctx context.Context, push *socket.Socket, out *lines) error {
	for {
		wait, cancel := context.WithTimeout(ctx, time.Second)
		err := push.WaitAcked(wait)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return err
		}
		st := push.Stats().Journal
		out.printf("backlog floor %d end %d inflight %d delayed %d delivered %d redelivered %d acked %d timedout %d peers %d",
			st.Floor, st.End, st.InFlight, st.Delayed, st.Delivered, st.Redelivered, st.Acked, st.TimedOut, len(push.Stats().Peers))
	}
}

// produce sends n messages in windows: SendAsync for each, then Wait for
// the window's last (messages become durable in order, so that covers
// the window), then one "ok" line for the window.
func produce(ctx context.Context, push *socket.Socket, out *lines, inc, n, window int, rate float64) error {
	start := time.Now()
	prefix := strconv.Itoa(inc) + "/"
	for lo := 0; lo < n; lo += window {
		hi := min(lo+window, n)
		if rate > 0 {
			due := start.Add(time.Duration(float64(lo) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		var last socket.Pending
		for seq := lo; seq < hi; seq++ {
			p, err := push.SendAsync(ctx, socket.NewMsg([]byte(prefix+strconv.Itoa(seq))))
			if err != nil {
				return fmt.Errorf("send %d/%d: %w", inc, seq, err)
			}
			last = p
		}
		if err := last.Wait(ctx); err != nil {
			return fmt.Errorf("waiting until %d/%d..%d are durable: %w", inc, lo, hi-1, err)
		}
		out.printf("ok %d %d %d", inc, lo, hi)
	}
	return nil
}
