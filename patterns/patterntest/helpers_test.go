package patterntest_test

import (
	"context"
	"testing"
	"time"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/patterns/patterntest"
	"github.com/brookmq/brook/transport"
	"github.com/stretchr/testify/require"
)

// newPattern builds a socket type's pattern with drops recorded.
func newPattern(t *testing.T, typ string, cfg patterns.Config) (patterns.Pattern, *patterntest.Drops) {
	t.Helper()
	d := &patterntest.Drops{}
	cfg.OnDrop = d.OnDrop
	if cfg.RecvHWM == 0 {
		cfg.RecvHWM = 100
	}
	typeOf, ok := patterns.TypeByName(typ)
	require.True(t, ok, "socket type %q", typ)
	p, err := patterns.New(typeOf, cfg)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p, d
}

// The tests drive every pattern the way the socket does: through its
// optional capabilities, failing with ErrNotSupported where it has none.

func send(pat patterns.Pattern, ctx context.Context, m patterns.Msg) error {
	s, ok := pat.(patterns.Sender)
	if !ok {
		return patterns.ErrNotSupported
	}
	return s.Send(ctx, m)
}

func recv(pat patterns.Pattern, ctx context.Context) (patterns.Msg, error) {
	r, ok := pat.(patterns.Receiver)
	if !ok {
		return patterns.Msg{}, patterns.ErrNotSupported
	}
	in, err := r.Recv(ctx)
	return in.Msg, err
}

func inbound(pat patterns.Pattern, ctx context.Context, p patterns.Pipe, m patterns.Msg) error {
	return pat.Inbound(ctx, p, m, 0)
}

func connected(pat patterns.Pattern, p patterns.Pipe) {
	if w, ok := pat.(patterns.PeerWatcher); ok {
		w.Connected(p)
	}
}

func disconnected(pat patterns.Pattern, p patterns.Pipe) {
	if w, ok := pat.(patterns.PeerWatcher); ok {
		w.Disconnected(p)
	}
}

func writable(pat patterns.Pattern, p patterns.Pipe) {
	if w, ok := pat.(patterns.Waker); ok {
		w.Writable(p)
	}
}

// ctxT bounds a blocking call so a bug fails instead of hanging.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expired is a context that has already ended: a call given it must not
// block.
func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// subscriber is what SUB, XSUB and manual XPUB patterns implement.
type subscriber interface {
	Subscribe([]byte) error
	Unsubscribe([]byte) error
}

// items renders queued items as strings for compact assertions:
// "+topic", "-topic", or the frames joined by "|".
func items(list []patterntest.Item) []string {
	out := []string{}
	for _, it := range list {
		switch it.Kind {
		case patterntest.Subscribe:
			out = append(out, "+"+string(it.Topic))
		case patterntest.Cancel:
			out = append(out, "-"+string(it.Topic))
		default:
			s := ""
			for i, f := range it.Msg.Frames {
				if i > 0 {
					s += "|"
				}
				s += string(f)
			}
			out = append(out, s)
		}
	}
	return out
}

func sub(topic string) patterns.Msg {
	return patterns.Msg{Frames: [][]byte{append([]byte{1}, topic...)}}
}
func unsub(topic string) patterns.Msg {
	return patterns.Msg{Frames: [][]byte{append([]byte{0}, topic...)}}
}

func transportErrClosed() error { return transport.ErrClosed }

// unread returns what a pattern holds for the application (the socket
// counts it as DropUnread at Close).
func unread(t *testing.T, pat patterns.Pattern) int {
	t.Helper()
	u, ok := pat.(patterns.Receiver)
	if !ok {
		return 0
	}
	return u.Unread()
}
