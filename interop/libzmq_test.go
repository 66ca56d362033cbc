package interop

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// sampleMessages is what every interop test exchanges: single and
// multipart messages, empty frames, frames on both sides of the short/long
// frame boundary (255/256 bytes), a 1 MiB frame inside a multipart message,
// then a numbered run to check ordering. Each call returns fresh slices (Send takes ownership).
func sampleMessages() [][][]byte {
	fill := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	msgs := [][][]byte{
		{[]byte("hello")},
		{[]byte("a"), {}, []byte("c")},
		{{}},
		{{}, {}},
		{fill(255, 'x')},
		{fill(256, 'y')},
		{fill(255, 1), fill(256, 2), fill(1<<20, 3), {}},
	}
	for i := range 30 {
		msgs = append(msgs, [][]byte{[]byte(strconv.Itoa(i)), []byte("tail")})
	}
	return msgs
}

// describe names a message for failure output without dumping a MiB.
func describe(frames [][]byte) string {
	s := "["
	for i, f := range frames {
		if i > 0 {
			s += " "
		}
		if len(f) <= 16 {
			s += fmt.Sprintf("%q", f)
		} else {
			s += fmt.Sprintf("<%d bytes>", len(f))
		}
	}
	return s + "]"
}

func assertSameMessage(t *testing.T, want, got [][]byte, i int) {
	t.Helper()
	if !assert.Equal(t, len(want), len(got), "message %d: frame count: want %s, got %s", i, describe(want), describe(got)) {
		return
	}
	for k := range want {
		// assert.Equal treats nil and empty differently; frames compare as bytes.
		assert.True(t, bytes.Equal(want[k], got[k]), "message %d frame %d: want %s, got %s", i, k, describe(want), describe(got))
	}
}

// brookToLibzmq sends the sample from a brook socket and checks that
// libzmq receives every message whole and in order.
func brookToLibzmq(ctx context.Context, t *testing.T, b *socket.Socket, z *libzmqPeer) {
	want := sampleMessages()
	go func() {
		for _, m := range sampleMessages() {
			if b.Send(ctx, socket.NewMsg(m...)) != nil {
				return // the receiving side fails the test
			}
		}
	}()
	for i, w := range want {
		assertSameMessage(t, w, z.recv(), i)
	}
}

// libzmqToBrook sends the sample from libzmq and checks that brook
// receives every message whole and in order.
func libzmqToBrook(ctx context.Context, t *testing.T, z *libzmqPeer, b *socket.Socket) {
	got := make(chan [][]byte, 1)
	errc := make(chan error, 1)
	go func() {
		for range sampleMessages() {
			m, err := b.Recv(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case got <- m.Frames:
			case <-ctx.Done():
				return
			}
		}
	}()
	for i, w := range sampleMessages() {
		z.send(w...)
		select {
		case g := <-got:
			assertSameMessage(t, w, g, i)
		case err := <-errc:
			t.Fatalf("brook Recv after %d messages: %v", i, err)
		}
	}
}

// TestLibzmqPushPull runs brook PUSH -> libzmq PULL and libzmq PUSH ->
// brook PULL over tcp and ipc, with either side binding.
func TestLibzmqPushPull(t *testing.T) {
	for _, tr := range streamTransports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("brook-push-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				push := newBrook(t, socket.Push)
				require.NoError(t, push.Bind(tr.brookBind(t)))
				pull := startLibzmq(t, "PULL")
				pull.connect(push.LastEndpoint())
				brookToLibzmq(ctx, t, push, pull)
			})
			t.Run("libzmq-pull-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				pull := startLibzmq(t, "PULL")
				ep := pull.bind(tr.libzmqBind(t))
				push := newBrook(t, socket.Push)
				require.NoError(t, push.Connect(ep))
				brookToLibzmq(ctx, t, push, pull)
			})
			t.Run("brook-pull-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				pull := newBrook(t, socket.Pull)
				require.NoError(t, pull.Bind(tr.brookBind(t)))
				push := startLibzmq(t, "PUSH")
				push.connect(pull.LastEndpoint())
				libzmqToBrook(ctx, t, push, pull)
			})
			t.Run("libzmq-push-binds", func(t *testing.T) {
				t.Parallel()
				ctx := deadline(t)
				push := startLibzmq(t, "PUSH")
				ep := push.bind(tr.libzmqBind(t))
				pull := newBrook(t, socket.Pull)
				require.NoError(t, pull.Connect(ep))
				libzmqToBrook(ctx, t, push, pull)
			})
		})
	}
}

// TestLibzmqPair runs brook PAIR against libzmq PAIR, each side binding
// in turn, with traffic both ways.
func TestLibzmqPair(t *testing.T) {
	for _, tr := range streamTransports() {
		t.Run(tr.name, func(t *testing.T) {
			for _, brookBinds := range []bool{true, false} {
				name := "libzmq-binds"
				if brookBinds {
					name = "brook-binds"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					ctx := deadline(t)
					b := newBrook(t, socket.Pair)
					z := startLibzmq(t, "PAIR")
					if brookBinds {
						require.NoError(t, b.Bind(tr.brookBind(t)))
						z.connect(b.LastEndpoint())
					} else {
						require.NoError(t, b.Connect(z.bind(tr.libzmqBind(t))))
					}
					brookToLibzmq(ctx, t, b, z)
					libzmqToBrook(ctx, t, z, b)
					// Interleaved request/answer, so neither direction only
					// works after the other went quiet.
					for i := range 5 {
						requireSend(ctx, t, b, []byte("ping"), []byte(strconv.Itoa(i)))
						got := z.recv()
						assertSameMessage(t, [][]byte{[]byte("ping"), []byte(strconv.Itoa(i))}, got, i)
						z.send([]byte("pong"), got[1])
						assertSameMessage(t, [][]byte{[]byte("pong"), []byte(strconv.Itoa(i))}, requireRecv(ctx, t, b), i)
					}
				})
			}
		})
	}
}
