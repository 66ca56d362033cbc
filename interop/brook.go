package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
)

// testTimeout bounds each test's blocking calls, so a bug fails the test
// instead of hanging the suite.
const testTimeout = 30 * time.Second

// deadline returns a context that ends with the test or after
// testTimeout.
func deadline(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newBrook creates a brook socket closed when the test ends.
func newBrook(t testing.TB, typ socket.Type, opts ...socket.Option) *socket.Socket {
	t.Helper()
	s, err := socket.New(typ, opts...)
	if err != nil {
		t.Fatalf("socket.New(%s): %v", typ, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ipcEndpoint returns an ipc endpoint in a fresh short directory (unix
// socket paths are limited to about 100 bytes, too short for
// t.TempDir's names), removed when the test ends.
func ipcEndpoint(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "brook-interop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return "ipc://" + filepath.Join(dir, "s")
}

// streamTransport is a stream transport libzmq and brook share, with a
// way for each side to bind a fresh address.
type streamTransport struct {
	name string
	// brookBind and libzmqBind return an endpoint to bind with a free
	// address, in the form each library takes.
	brookBind, libzmqBind func(t testing.TB) string
}

// streamTransports lists tcp and ipc.
func streamTransports() []streamTransport {
	return []streamTransport{
		{
			name:       "tcp",
			brookBind:  func(testing.TB) string { return "tcp://127.0.0.1:0" },
			libzmqBind: func(testing.TB) string { return "tcp://127.0.0.1:*" },
		},
		{name: "ipc", brookBind: ipcEndpoint, libzmqBind: ipcEndpoint},
	}
}

// eventLog records a socket's monitor events for the whole test.
type eventLog struct {
	mu      sync.Mutex
	events  []socket.Event
	changed chan struct{} // closed and replaced on each event
	done    chan struct{} // closed when the recorder stopped
}

// watchEvents records s's monitor events until the test ends. Call it
// before Bind or Connect to see every event.
func watchEvents(t testing.TB, s *socket.Socket) *eventLog {
	ch, stop := s.Monitor()
	l := &eventLog{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for e := range ch {
			l.mu.Lock()
			l.events = append(l.events, e)
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stop()
		<-l.done
		if t.Failed() {
			t.Logf("%s events: %s", s.Type(), l)
		}
	})
	return l
}

// all returns the events recorded so far.
func (l *eventLog) all() []socket.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]socket.Event(nil), l.events...)
}

// ofType returns the recorded events of type typ.
func (l *eventLog) ofType(typ socket.EventType) []socket.Event {
	var out []socket.Event
	for _, e := range l.all() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits until an event matching match is recorded (one recorded
// earlier counts) and returns the first such event; it fails the test if
// none comes before ctx ends.
func (l *eventLog) waitFor(ctx context.Context, t testing.TB, what string, match func(socket.Event) bool) socket.Event {
	t.Helper()
	e, err := l.await(ctx, match)
	if err != nil {
		t.Fatalf("no %s: %v; events: %s", what, err, l)
	}
	return e
}

// await returns the first recorded event matching match, waiting for
// one until ctx ends (ctx's error) or the monitor closes.
func (l *eventLog) await(ctx context.Context, match func(socket.Event) bool) (socket.Event, error) {
	return l.awaitFrom(ctx, 0, match)
}

// len is the number of events recorded so far: an index for awaitFrom.
func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// awaitFrom is await for the events recorded from index from on.
func (l *eventLog) awaitFrom(ctx context.Context, from int, match func(socket.Event) bool) (socket.Event, error) {
	for seen := from; ; {
		l.mu.Lock()
		events, changed := l.events, l.changed
		l.mu.Unlock()
		for ; seen < len(events); seen++ {
			if match(events[seen]) {
				return events[seen], nil
			}
		}
		select {
		case <-changed:
		case <-l.done:
			// The monitor may have recorded its last events and closed
			// at once: look at them before giving up.
			l.mu.Lock()
			events = l.events
			l.mu.Unlock()
			for ; seen < len(events); seen++ {
				if match(events[seen]) {
					return events[seen], nil
				}
			}
			return socket.Event{}, errors.New("monitor closed")
		case <-ctx.Done():
			return socket.Event{}, ctx.Err()
		}
	}
}

// quietFor waits for d and fails the test at once if an event matching
// match is recorded meanwhile (or was before). The wait is the test: it
// shows nothing happens over a span longer than some timeout.
func (l *eventLog) quietFor(t testing.TB, d time.Duration, what string, match func(socket.Event) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e, err := l.await(ctx, match)
	switch {
	case err == nil:
		t.Fatalf("unexpected %s: %s; events: %s", what, e, l)
	case !errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("waiting %v without %s: %v", d, what, err)
	}
}

// waitType waits for the first event of type typ.
func (l *eventLog) waitType(ctx context.Context, t testing.TB, typ socket.EventType) socket.Event {
	t.Helper()
	return l.waitFor(ctx, t, typ.String()+" event", func(e socket.Event) bool { return e.Type == typ })
}

// waitCount waits until n events of type typ have been recorded.
func (l *eventLog) waitCount(ctx context.Context, t testing.TB, typ socket.EventType, n int) {
	t.Helper()
	seen := 0
	l.waitFor(ctx, t, fmt.Sprintf("%d %s events", n, typ), func(e socket.Event) bool {
		if e.Type == typ {
			seen++
		}
		return seen == n
	})
}

// String lists the recorded events, for failure messages.
func (l *eventLog) String() string {
	var b strings.Builder
	for _, e := range l.all() {
		fmt.Fprintf(&b, "\n\t%s", e)
	}
	return b.String()
}

// requireSend sends m on s, failing the test on error.
func requireSend(ctx context.Context, t testing.TB, s *socket.Socket, frames ...[]byte) {
	t.Helper()
	if err := s.Send(ctx, socket.NewMsg(frames...)); err != nil {
		t.Fatalf("brook %s Send: %v", s.Type(), err)
	}
}

// requireRecv receives one message on s, failing the test on error.
func requireRecv(ctx context.Context, t testing.TB, s *socket.Socket) [][]byte {
	t.Helper()
	m, err := s.Recv(ctx)
	if err != nil {
		t.Fatalf("brook %s Recv: %v", s.Type(), err)
	}
	return m.Frames
}
