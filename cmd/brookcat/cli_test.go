package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is one in-process run of Main.
type result struct {
	code           int
	stdout, stderr string
}

// syncBuffer lets a test read what a running Main wrote.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// goMain runs Main in a goroutine; read the result from the channel.
func goMain(ctx context.Context, stdin string, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		var out, errOut syncBuffer
		code := Main(ctx, args, strings.NewReader(stdin), &out, &errOut)
		ch <- result{code, out.String(), errOut.String()}
	}()
	return ch
}

func runMain(t *testing.T, ctx context.Context, stdin string, args ...string) result {
	t.Helper()
	select {
	case r := <-goMain(ctx, stdin, args...):
		return r
	case <-time.After(time.Minute):
		t.Fatalf("brookcat %v did not end", args)
	}
	return result{}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Two brookcats in one process, over inproc: lines in, lines out, with
// multipart frames.
func TestPushPullInproc(t *testing.T) {
	ctx := testCtx(t)
	pull := goMain(ctx, "", "-n", "3", "PULL", "@inproc://cat-pushpull")
	// Exactly the three messages the PULL takes: a fourth could find the
	// PULL gone and stay undelivered, which the PUSH reports (exit 1).
	push := runMain(t, ctx, "one\ttwo\nthree\n\n", "PUSH", "inproc://cat-pushpull")
	assert.Equal(t, exitOK, push.code, push.stderr)
	r := <-pull
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "one\ttwo\nthree\n\n", r.stdout)
	assert.Contains(t, r.stderr, "listening on inproc://cat-pushpull")
}

func TestFormatsEndToEnd(t *testing.T) {
	ctx := testCtx(t)
	pull := goMain(ctx, "", "-n", "2", "-out", "json", "PULL", "@inproc://cat-formats")
	push := runMain(t, ctx, "00ff,6869\n,\n", "-in", "hex", "-d", ",", "PUSH", "inproc://cat-formats")
	require.Equal(t, exitOK, push.code, push.stderr)
	r := <-pull
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `{"frames":[{"hex":"00ff"},"hi"]}`+"\n"+`{"frames":["",""]}`+"\n", r.stdout)
}

func TestReqRepEcho(t *testing.T) {
	ctx := testCtx(t)
	rep := goMain(ctx, "", "-echo", "-n", "2", "REP", "@inproc://cat-reqrep")
	req := runMain(t, ctx, "ping\npong\tfr2\n", "REQ", "inproc://cat-reqrep")
	assert.Equal(t, exitOK, req.code, req.stderr)
	assert.Equal(t, "ping\npong\tfr2\n", req.stdout)
	r := <-rep
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "ping\npong\tfr2\n", r.stdout)
}

// REP answers each request with the next input line.
func TestRepRepliesFromInput(t *testing.T) {
	ctx := testCtx(t)
	rep := goMain(ctx, "first answer\nsecond answer\n", "REP", "@inproc://cat-rep-input")
	req := runMain(t, ctx, "q1\nq2\n", "REQ", "inproc://cat-rep-input")
	assert.Equal(t, exitOK, req.code, req.stderr)
	assert.Equal(t, "first answer\nsecond answer\n", req.stdout)
	// The REP has no third answer: a third request would end it. Send
	// one, which it prints before saying so.
	req = runMain(t, ctx, "q3\n", "-timeout", "200ms", "REQ", "inproc://cat-rep-input")
	assert.Equal(t, exitIncomplete, req.code, "no reply comes")
	r := <-rep
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "q1\nq2\nq3\n", r.stdout)
	assert.Contains(t, r.stderr, "the input ended: the last request got no reply")
}

func TestExitCodes(t *testing.T) {
	ctx := testCtx(t)
	t.Run("count not reached before timeout", func(t *testing.T) {
		r := runMain(t, ctx, "", "-n", "1", "-timeout", "100ms", "PULL", "@inproc://cat-timeout")
		assert.Equal(t, exitIncomplete, r.code)
		assert.Contains(t, r.stderr, "nothing arrived within -timeout after 0 of 1 messages")
	})
	t.Run("timeout without a count ends a receiver", func(t *testing.T) {
		r := runMain(t, ctx, "", "-timeout", "100ms", "SUB", "@inproc://cat-idle")
		assert.Equal(t, exitOK, r.code, r.stderr)
	})
	t.Run("signal without a count", func(t *testing.T) {
		sctx, stop := context.WithCancel(ctx)
		ch := goMain(sctx, "", "PULL", "@inproc://cat-signal")
		stop()
		assert.Equal(t, exitOK, (<-ch).code)
	})
	t.Run("signal before the count", func(t *testing.T) {
		sctx, stop := context.WithCancel(ctx)
		ch := goMain(sctx, "", "-n", "5", "PULL", "@inproc://cat-signal2")
		stop()
		r := <-ch
		assert.Equal(t, exitIncomplete, r.code)
		assert.Contains(t, r.stderr, "interrupted after 0 of 5 messages")
	})
	t.Run("usage", func(t *testing.T) {
		r := runMain(t, ctx, "", "PUSH")
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "run `brookcat -h` for help")
		r = runMain(t, ctx, "", "PUSH", "foo://x")
		assert.Equal(t, exitUsage, r.code, "unknown scheme")
		assert.Contains(t, r.stderr, "foo")
		r = runMain(t, ctx, "", "-identity", strings.Repeat("x", 300), "DEALER", "inproc://x")
		assert.Equal(t, exitUsage, r.code, "a bad socket option")
	})
	t.Run("help", func(t *testing.T) {
		r := runMain(t, ctx, "", "-h")
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stdout, "usage: brookcat [flags] TYPE ENDPOINT")
		assert.Contains(t, r.stdout, "Exit codes: 0 done")
		assert.Contains(t, r.stdout, "-wait-peers")
	})
	t.Run("bind failure", func(t *testing.T) {
		holder := goMain(ctx, "", "-timeout", "2s", "PULL", "@inproc://cat-taken")
		time.Sleep(0) // the holder may or may not be first: either one fails to bind
		r := runMain(t, ctx, "", "-timeout", "2s", "PULL", "@inproc://cat-taken")
		h := <-holder
		codes := []int{r.code, h.code}
		assert.Contains(t, codes, exitError, "the second bind fails: %q %q", r.stderr, h.stderr)
	})
	t.Run("bad input stops after what came before", func(t *testing.T) {
		pull := goMain(ctx, "", "-n", "1", "PULL", "@inproc://cat-badinput")
		r := runMain(t, ctx, "6869\nnot hex\n6869\n", "-in", "hex", "PUSH", "inproc://cat-badinput")
		assert.Equal(t, exitError, r.code)
		assert.Contains(t, r.stderr, "line 2, frame 1: not hex")
		p := <-pull
		assert.Equal(t, exitOK, p.code, p.stderr)
		assert.Equal(t, "hi\n", p.stdout, "the good message before the bad line was delivered")
	})
	t.Run("undelivered at exit", func(t *testing.T) {
		r := runMain(t, ctx, "lost\n", "-linger", "0", "PUSH", "inproc://cat-nobody")
		assert.Equal(t, exitError, r.code)
		assert.Contains(t, r.stderr, "1 messages were not delivered")
	})
	t.Run("send blocked for the timeout", func(t *testing.T) {
		r := runMain(t, ctx, "a\nb\nc\n", "-hwm", "1", "-linger", "0", "-timeout", "100ms", "PUSH", "inproc://cat-blocked")
		assert.Equal(t, exitError, r.code, "blocked (3), then the queued message is undelivered (1): the worse wins")
		assert.Contains(t, r.stderr, "a send stayed blocked for -timeout (no peer ready) after 1 messages sent")
	})
}

// A DEALER and a ROUTER both send and receive; the ROUTER shows the
// routing id and uses the first input frame to address its reply.
func TestRouterDealerDuplex(t *testing.T) {
	ctx := testCtx(t)
	router := goMain(ctx, "d1\treply\n", "-wait-peers", "1", "-n", "1", "-out", "json", "ROUTER", "@inproc://cat-router")
	dealer := runMain(t, ctx, "hello\n", "-identity", "d1", "-n", "1", "DEALER", "inproc://cat-router")
	assert.Equal(t, exitOK, dealer.code, dealer.stderr)
	assert.Equal(t, "reply\n", dealer.stdout)
	r := <-router
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `{"frames":["d1","hello"]}`+"\n", r.stdout)
}

// An XPUB waits for its subscriber before publishing; the SUB gets what
// its prefix matches, and the XPUB prints the subscription.
func TestXPubSub(t *testing.T) {
	ctx := testCtx(t)
	// The timeouts only bound a failure.
	xpub := goMain(ctx, "news.a\t1\nsport\t2\nnews.b\t3\n", "-timeout", "20s", "-wait-peers", "1", "-n", "1", "-out", "hex", "XPUB", "@inproc://cat-xpub")
	sub := runMain(t, ctx, "", "-timeout", "20s", "-s", "news.", "-n", "2", "SUB", "inproc://cat-xpub")
	assert.Equal(t, exitOK, sub.code, sub.stderr)
	assert.Equal(t, "news.a\t1\nnews.b\t3\n", sub.stdout)
	r := <-xpub
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "016e6577732e\n", r.stdout, "\\x01news.")
}
