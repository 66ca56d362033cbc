package faultproxy

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock that moves only when told: latency and bandwidth
// are tested by watching which waits the proxy starts and what it has
// forwarded before and after the clock passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]struct{}
	added  chan struct{} // closed and replaced when a timer starts
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1000, 0), timers: make(map[*fakeTimer]struct{}), added: make(chan struct{})}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- f.now
		return t.ch, func() {}
	}
	f.timers[t] = struct{}{}
	close(f.added)
	f.added = make(chan struct{})
	return t.ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.timers, t)
	}
}

// advance moves the clock and fires the timers it passes.
func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for t := range f.timers {
		if !t.at.After(f.now) {
			t.ch <- f.now
			delete(f.timers, t)
		}
	}
}

// waitTimer waits until a timer is pending and returns how far ahead of
// now the earliest one is.
func (f *fakeClock) waitTimer(ctx context.Context) (time.Duration, error) {
	for {
		f.mu.Lock()
		var first time.Time
		for t := range f.timers {
			if first.IsZero() || t.at.Before(first) {
				first = t.at
			}
		}
		now, added := f.now, f.added
		f.mu.Unlock()
		if !first.IsZero() {
			return first.Sub(now), nil
		}
		select {
		case <-added:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// shapedPair starts a proxy on a fake clock in front of a listener and
// returns the proxy, the clock, the client and the target's side.
func shapedPair(t *testing.T) (*Proxy, *fakeClock, net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	clk := newFakeClock()
	p, err := newProxy(ln.Addr().String(), clk)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	client, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })
	return p, clk, client, server
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func forwardedToTarget(p *Proxy) int64 { return p.Stats().ToTarget.Forwarded }

// Bytes wait exactly the latency after they were read, then go.
func TestLatencyHoldsBytesForTheDelay(t *testing.T) {
	p, clk, client, server := shapedPair(t)
	ctx := ctxFor(t)
	p.SetLatency(ToTarget, time.Second)
	_, err := client.Write([]byte("late"))
	require.NoError(t, err)
	wait, err := clk.waitTimer(ctx)
	require.NoError(t, err)
	assert.Equal(t, time.Second, wait, "the bytes wait the latency from when they were read")
	assert.Zero(t, forwardedToTarget(p), "nothing forwarded before the delay")

	clk.advance(time.Second)
	got := make([]byte, 4)
	_, err = io.ReadFull(server, got)
	require.NoError(t, err)
	assert.Equal(t, "late", string(got))
	_, err = p.WaitStats(ctx, func(s Stats) bool { return s.ToTarget.Forwarded == 4 })
	require.NoError(t, err)
}

// A new latency or rate applies to bytes already waiting under the old
// one.
func TestShapingChangeAppliesToWaitingBytes(t *testing.T) {
	for _, c := range []struct {
		name      string
		set, lift func(*Proxy)
		wait      time.Duration
	}{
		{"latency", func(p *Proxy) { p.SetLatency(ToTarget, time.Hour) }, func(p *Proxy) { p.SetLatency(ToTarget, 0) }, time.Hour},
		{"bandwidth", func(p *Proxy) { p.SetBandwidth(ToTarget, 1) }, func(p *Proxy) { p.SetBandwidth(ToTarget, 0) }, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, clk, client, server := shapedPair(t)
			c.set(p)
			_, err := client.Write(make([]byte, 10))
			require.NoError(t, err)
			wait, err := clk.waitTimer(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, c.wait, wait)
			c.lift(p)
			_, err = io.ReadFull(server, make([]byte, 10))
			require.NoError(t, err, "forwarded without the clock moving")
		})
	}
}

// At 1000 bytes/s, 100 bytes go out in five 20-byte pieces, each after
// the 20 ms the link needs to carry it.
func TestBandwidthPacesPieces(t *testing.T) {
	p, clk, client, server := shapedPair(t)
	ctx := ctxFor(t)
	p.SetBandwidth(ToTarget, 1000)
	_, err := client.Write(make([]byte, 100))
	require.NoError(t, err)
	for i := range 5 {
		wait, err := clk.waitTimer(ctx)
		require.NoError(t, err)
		assert.Equal(t, 20*time.Millisecond, wait, "piece %d", i)
		assert.Equal(t, int64(20*i), forwardedToTarget(p), "forwarded before piece %d", i)
		clk.advance(wait)
	}
	_, err = io.ReadFull(server, make([]byte, 100))
	require.NoError(t, err)
	_, err = p.WaitStats(ctx, func(s Stats) bool { return s.ToTarget.Forwarded == 100 })
	require.NoError(t, err)
}

func TestPieceSize(t *testing.T) {
	assert.Equal(t, 1, pieceSize(1))
	assert.Equal(t, 20, pieceSize(1000))
	assert.Equal(t, chunkSize, pieceSize(1<<40))
	assert.Equal(t, time.Second, transmitTime(1000, 1000))
	assert.Equal(t, 20*time.Millisecond, transmitTime(20, 1000))
}
