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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/brookmq/brook/socket"
)

// subscriberMain is a SUB to the ticks that prints each one, then
// acknowledges it (which moves its position past it), and with a position
// store commits its position every -commit-every ticks. On SIGTERM it
// closes, which commits the position too. It reports on stdout:
//
//	got OFFSET EPOCH TICK UNIXNANO     a tick, with its journal offset and epoch and its publish time
//	committed P                        the position P (the next offset to read) is durable
//	event TYPE COUNT                   a journal gap or journal change reported by the socket
//	closed P                           clean exit at position P
func subscriberMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay subscriber", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "the publisher's endpoint")
	positions := fs.String("positions", "", "position store directory (kept across restarts; empty: none)")
	startAt := fs.String("start", "oldest", "where to start without a stored position: oldest, live, offset:N or time:UNIXNANO")
	commitEvery := fs.Int("commit-every", 100, "ticks between two commits of the position")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start, err := parseStart(*startAt)
	if err != nil {
		return err
	}
	if *endpoint == "" || *commitEvery < 1 {
		return errors.New("need -endpoint and -commit-every >= 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out := &lines{w: stdout}

	opts := []socket.Option{socket.WithStart(start), socket.WithReconnectInterval(20 * time.Millisecond)}
	if *positions != "" {
		// Commits happen where this program says (CommitPositions), and
		// on Close: an hour is "not on its own" for this example.
		opts = append(opts, socket.WithPositionStore(*positions, time.Hour))
	}
	sub, err := socket.New(socket.Sub, opts...)
	if err != nil {
		return err
	}
	defer sub.Close()
	events, stopEvents := sub.Monitor()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range events {
			if e.Type == socket.EventJournalGap || e.Type == socket.EventJournalChanged {
				out.printf("event %s %d", e.Type, e.Count)
			}
		}
	}()
	defer func() { stopEvents(); wg.Wait() }()
	if err := sub.Subscribe([]byte("tick")); err != nil {
		return err
	}
	if err := sub.Connect(*endpoint); err != nil {
		return err
	}
	pos, err := read(ctx, sub, out, *positions != "", *commitEvery)
	if ctx.Err() == nil {
		return err
	}
	if err := sub.Close(); err != nil {
		return err
	}
	out.printf("closed %d", pos)
	return nil
}

// read prints and acknowledges ticks until ctx ends or an error,
// committing the position every commitEvery ticks; it returns the
// position reached and why it stopped.
func read(ctx context.Context, sub *socket.Socket, out *lines, commit bool, commitEvery int) (uint64, error) {
	var pos uint64
	for n := 1; ; n++ {
		d, err := sub.RecvDelivery(ctx)
		if err != nil {
			return pos, err
		}
		if len(d.Msg.Frames) != 2 || !d.Journaled() {
			return pos, fmt.Errorf("unexpected message %q (journaled: %t)", d.Msg.Frames, d.Journaled())
		}
		out.printf("got %d %d %s %d", d.ID.Offset, d.ID.Epoch, d.Msg.Frames[1], d.Time.UnixNano())
		if err := d.Ack(); err != nil {
			return pos, err
		}
		pos = d.ID.Offset + 1
		if commit && n%commitEvery == 0 {
			if err := sub.CommitPositions(); err != nil {
				return pos, err
			}
			out.printf("committed %d", pos)
		}
	}
}

// parseStart reads -start.
func parseStart(s string) (socket.Start, error) {
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case "oldest":
		return socket.StartOldest(), nil
	case "live":
		return socket.StartLive(), nil
	case "offset", "time":
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			break
		}
		if kind == "offset" {
			return socket.StartAt(uint64(n)), nil
		}
		return socket.StartTime(time.Unix(0, n)), nil
	}
	return socket.Start{}, fmt.Errorf("-start %q: want oldest, live, offset:N or time:UNIXNANO", s)
}

// lines writes whole lines, one write each, from any goroutine: a
// process killed between two writes leaves only whole lines in the pipe.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) printf(format string, args ...any) {
	b := fmt.Appendf(nil, format+"\n", args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b) //nolint:errcheck // the coordinator's pipe; nothing to do if it is gone
}
