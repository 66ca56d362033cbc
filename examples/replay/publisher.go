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

// publisherMain is the ticker: a journaled PUB bound at -endpoint that
// publishes [tick, N] at -rate ticks per second until SIGTERM, where N
// is the tick's offset in the journal (a restarted publisher goes on
// from the journal's end). It reports on stdout:
//
//	listening EP
//	journal ID epoch E end N     the journal as it found it
//	published N                  ticks 0..N-1 are durable (every 100 ms)
func publisherMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay publisher", flag.ContinueOnError)
	journal := fs.String("journal", "", "journal directory (kept across restarts)")
	endpoint := fs.String("endpoint", "tcp://127.0.0.1:0", "endpoint to bind")
	rate := fs.Float64("rate", 1000, "ticks per second")
	segment := fs.Int64("segment", durable.DefaultSegmentSize, "journal segment size in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *journal == "" || *rate <= 0 {
		return errors.New("need -journal and -rate > 0")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out := &lines{w: stdout}

	pub, err := socket.New(socket.Pub, socket.WithJournalDir(*journal, durable.WithSync(durable.Group), durable.WithSegmentSize(*segment)))
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.Bind(*endpoint); err != nil {
		return err
	}
	out.printf("listening %s", pub.LastEndpoint())
	st := pub.Stats().Journal
	out.printf("journal %x epoch %d end %d", st.ID, st.Epoch, st.End)
	if err := publish(ctx, pub, out, st.End, *rate); err != nil && ctx.Err() == nil {
		return err
	}
	return pub.Close()
}

// publish publishes ticks on schedule from tick number next on, every 10 ms what
// is due, and reports every 100 ms how far the ticks are durable.
func publish(ctx context.Context, pub *socket.Socket, out *lines, next uint64, rate float64) error {
	start, first := time.Now(), next
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	lastReport := start
	topic := []byte("tick")
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		due := first + uint64(time.Since(start).Seconds()*rate)
		var last socket.Pending
		for ; next < due; next++ {
			p, err := pub.SendAsync(ctx, socket.NewMsg(topic, []byte(strconv.FormatUint(next, 10))))
			if err != nil {
				return err
			}
			if off := p.ID().Offset; off != next {
				return fmt.Errorf("tick %d was journaled at offset %d: something else writes to the journal", next, off)
			}
			last = p
		}
		if time.Since(lastReport) < 100*time.Millisecond || last == (socket.Pending{}) {
			continue
		}
		if err := last.Wait(ctx); err != nil {
			return err
		}
		out.printf("published %d", next)
		lastReport = time.Now()
	}
}
