package durable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// Child processes: the test binary re-executed with childEnv set to a role.
const (
	childEnv     = "BROOK_DURABLE_CHILD"
	childDirEnv  = "BROOK_DURABLE_DIR"
	childModeEnv = "BROOK_DURABLE_MODE"
	childIterEnv = "BROOK_DURABLE_ITER"
	// killProducers is the number of appending goroutines in a kill child.
	killProducers = 8
	// killSegmentSize is small so that rolls, retention and cursor rewrites
	// happen many times per child.
	killSegmentSize = 4096
)

// runChild runs a child role and returns the process exit code.
func runChild(role string) int {
	dir := os.Getenv(childDirEnv)
	switch role {
	case "lock":
		return lockProbe(func() (io.Closer, error) { return Open(dir) })
	case "positions-lock":
		return lockProbe(func() (io.Closer, error) { return OpenPositions(dir) })
	case "write":
		// Append records 10..409 (payloadFor) over small segments and exit.
		l, err := Open(dir, WithSegmentSize(killSegmentSize))
		if err != nil {
			fmt.Println("error", err)
			return 2
		}
		for i := 10; i < 410; i++ {
			if _, err := l.Append(context.Background(), payloadFor(i)); err != nil {
				fmt.Println("error", err)
				return 2
			}
		}
		if err := l.Close(); err != nil {
			fmt.Println("error", err)
			return 2
		}
		fmt.Println("done")
		return 0
	case "append":
		mode, err := strconv.ParseInt(os.Getenv(childModeEnv), 10, 64)
		if err != nil {
			fmt.Println("error", err)
			return 2
		}
		iter, _ := strconv.Atoi(os.Getenv(childIterEnv))
		return appendChild(dir, SyncMode(mode), iter)
	case "mixed":
		mode, err := strconv.ParseInt(os.Getenv(childModeEnv), 10, 64)
		if err != nil {
			fmt.Println("error", err)
			return 2
		}
		iter, _ := strconv.Atoi(os.Getenv(childIterEnv))
		return mixedChild(dir, SyncMode(mode), iter)
	}
	fmt.Println("error unknown role", role)
	return 2
}

// lockProbe opens something that takes a lock and prints whether it was
// "locked", "opened" (and closed again) or failed otherwise.
func lockProbe(open func() (io.Closer, error)) int {
	c, err := open()
	switch {
	case errors.Is(err, ErrLocked):
		fmt.Println("locked")
	case err != nil:
		fmt.Println("error", err)
	default:
		fmt.Println("opened")
		_ = c.Close()
	}
	return 0
}

func killOptions(mode SyncMode) []Option {
	return []Option{WithSync(mode), WithSegmentSize(killSegmentSize), WithRetainConsumed(),
		WithCursorPersistInterval(0), WithIndexInterval(512)}
}

// appendChild appends under load until killed, reporting on stdout every
// acknowledged append ("ack <offset> <producer> <seq>") and every committed
// cursor floor ("commit <floor>"), each written only after the call returned.
func appendChild(dir string, mode SyncMode, iter int) int {
	l, err := Open(dir, killOptions(mode)...)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	var out sync.Mutex
	report := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format, args...)
		out.Unlock()
	}
	c, err := l.Cursor("consumer")
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	// The consumer also keeps its position in a positions store, as a
	// resuming subscriber of another journal would.
	ps, err := OpenPositions(dir + ".positions")
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	pos, err := ps.Position("consumer")
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	ctx := context.Background()
	ep := l.Epoch()
	report("epoch %d %d %d\n", ep.N, ep.Start, l.End())
	report("ready\n")
	for p := range killProducers {
		go func() {
			id := iter*killProducers + p
			for s := 0; ; s++ {
				off, err := l.Append(ctx, genPayload(id, s))
				if err != nil {
					report("error %v\n", err)
					return
				}
				report("ack %d %d %d\n", off, id, s)
			}
		}()
	}
	r := l.NewReader(c.Offset())
	for n := 0; ; n++ {
		rec, err := r.Next(ctx)
		if err == nil {
			err = c.Ack(rec.Offset)
		}
		if err == nil && n%16 == 0 {
			if err = c.Commit(); err == nil {
				report("commit %d\n", c.Offset())
			}
		}
		if err == nil && n%16 == 8 {
			floor := c.Offset()
			if err = pos.Seek(floor); err == nil {
				if err = ps.Commit(ctx); err == nil {
					report("poscommit %d\n", floor)
				}
			}
		}
		if err != nil {
			report("error %v\n", err)
			return 3
		}
	}
}
