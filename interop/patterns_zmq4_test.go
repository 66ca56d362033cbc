package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	zmq4 "github.com/go-zeromq/zmq4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// What go-zeromq/zmq4 v0.17.0 does that these tests work around (seen
// while writing them, and in its source):
//   - It announces ZMTP 3.0, so brook sends it subscriptions as 3.0
//     messages (0x01+topic), which it understands.
//   - Its SUB sends a subscription only to connections it has when
//     SetOption(SUBSCRIBE) is called, and never resends subscriptions
//     after a reconnect: the tests subscribe after Dial, and do not
//     restart publishers.
//   - Its Recv has no timeout: a goroutine pumps Recv into a channel
//     (patZmq4Inbox) until the socket is closed.
//   - Its Dial is synchronous and retries only briefly, so the brook side
//     binds first when zmq4 dials.
//   - A listening REQ fails Send with "no connections available" until
//     its accept loop has registered the peer, instead of waiting: the
//     first request is retried.
//   - Closing its PUB never stops the PUB's writer goroutine
//     (pubMWriter.run waits on a sync.Cond that socket.Close never
//     signals), which goleak rightly reports. patZmq4Pub closes that
//     writer through reflection when the test ends; this is pinned to
//     v0.17.0's field names and fails loudly if they change.

// patZmq4Pub makes a zmq4 PUB whose writer goroutine is stopped when the
// test ends (see above).
func patZmq4Pub(t *testing.T) zmq4.Socket {
	s := newZmq4(t, zmq4.NewPub)
	t.Cleanup(func() {
		if err := patZmq4StopWriter(s); err != nil {
			t.Fatal(err)
		}
	})
	return s
}

// patZmq4StopWriter stops a zmq4 PUB's writer goroutine, which its Close
// forgets. It closes the writer (socket.w), which marks it closed and
// signals the goroutine's sync.Cond. The goroutine only sees a signal
// while it waits on the Cond (not while still writing), and it exits
// holding the Cond's lock (so Close must not be called twice): the Cond
// is signalled again until the goroutine, found in the stack dump by its
// receiver address, has ended, for at most a few seconds.
func patZmq4StopWriter(s zmq4.Socket) error {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("zmq4 PUB is a %T: update patZmq4StopWriter", s)
	}
	sck := v.Elem().FieldByName("sck")
	if !sck.IsValid() || sck.Kind() != reflect.Pointer {
		return fmt.Errorf("zmq4 PUB has no sck field: update patZmq4StopWriter")
	}
	w := sck.Elem().FieldByName("w")
	if !w.IsValid() || w.Kind() != reflect.Interface || w.IsNil() || w.Elem().Kind() != reflect.Pointer {
		return fmt.Errorf("zmq4 socket has no w field: update patZmq4StopWriter")
	}
	closer, ok := reflect.NewAt(w.Type(), unsafe.Pointer(w.UnsafeAddr())).Elem().Interface().(io.Closer)
	if !ok {
		return fmt.Errorf("zmq4 PUB writer is not an io.Closer: update patZmq4StopWriter")
	}
	qcond := w.Elem().Elem().FieldByName("qcond")
	if !qcond.IsValid() || qcond.Type() != reflect.TypeOf((*sync.Cond)(nil)) {
		return fmt.Errorf("zmq4 PUB writer has no qcond field: update patZmq4StopWriter")
	}
	cond := reflect.NewAt(qcond.Type(), unsafe.Pointer(qcond.UnsafeAddr())).Elem().Interface().(*sync.Cond)
	frame := fmt.Sprintf("zmq4.(*pubMWriter).run(%#x", w.Elem().Pointer())
	_ = closer.Close()
	stacks := make([]byte, 1<<20)
	for deadline := time.Now().Add(5 * time.Second); ; {
		n := runtime.Stack(stacks, true)
		if !bytes.Contains(stacks[:n], []byte(frame)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("zmq4 PUB writer goroutine did not stop")
		}
		cond.Signal()
		time.Sleep(time.Millisecond)
	}
}

// patZmq4Inbox receives on s in the background until s is closed.
func patZmq4Inbox(t *testing.T, s zmq4.Socket) <-chan zmq4.Msg {
	ch := make(chan zmq4.Msg, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := s.Recv()
			if err != nil {
				return
			}
			ch <- m
		}
	}()
	t.Cleanup(func() {
		s.Close()
		for {
			select {
			case <-done:
				return
			case <-ch:
			}
		}
	})
	return ch
}

// patZmq4Next waits for the next message in inbox, failing after d.
func patZmq4Next(t *testing.T, inbox <-chan zmq4.Msg, d time.Duration) ([]string, bool) {
	t.Helper()
	select {
	case m := <-inbox:
		return patStrings(m.Frames), true
	case <-time.After(d):
		return nil, false
	}
}

// TestZmq4PubSub: brook PUB -> zmq4 SUB and zmq4 PUB -> brook SUB over
// tcp, with each side binding where zmq4 allows it.
func TestZmq4PubSub(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brook-pub/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			pub := newBrook(t, socket.Pub)
			events := watchEvents(t, pub)
			sub := newZmq4(t, zmq4.NewSub)
			if brookBinds {
				require.NoError(t, pub.Bind("tcp://127.0.0.1:0"))
				require.NoError(t, sub.Dial(pub.LastEndpoint()))
			} else {
				require.NoError(t, sub.Listen("tcp://127.0.0.1:0"))
				require.NoError(t, pub.Connect(zmq4Endpoint(t, sub, "tcp")))
				// zmq4 sends a subscription only on connections it has.
				events.waitType(ctx, t, socket.EventHandshakeSucceeded)
			}
			require.NoError(t, sub.SetOption(zmq4.OptionSubscribe, "news."))
			inbox := patZmq4Inbox(t, sub)
			for { // probe until the subscription has arrived
				requireSend(ctx, t, pub, []byte("news.probe"))
				if _, ok := patZmq4Next(t, inbox, patProbeWait); ok {
					break
				}
				require.NoError(t, ctx.Err())
			}
			requireSend(ctx, t, pub, []byte("sport.1"), []byte("x"))
			requireSend(ctx, t, pub, []byte("news.1"), []byte("body"))
			for {
				m, ok := patZmq4Next(t, inbox, peerWait)
				require.True(t, ok, "zmq4 SUB got nothing")
				if m[0] != "news.probe" {
					assert.Equal(t, []string{"news.1", "body"}, m)
					break
				}
			}
			require.NoError(t, sub.SetOption(zmq4.OptionUnsubscribe, "news."))
			require.NoError(t, sub.SetOption(zmq4.OptionSubscribe, "z"))
			for {
				requireSend(ctx, t, pub, []byte("z-probe"))
				if m, ok := patZmq4Next(t, inbox, patProbeWait); ok && m[0] == "z-probe" {
					break
				}
				require.NoError(t, ctx.Err())
			}
			requireSend(ctx, t, pub, []byte("news.2"))
			requireSend(ctx, t, pub, []byte("z-end"))
			for {
				m, ok := patZmq4Next(t, inbox, peerWait)
				require.True(t, ok)
				if m[0] != "z-probe" {
					assert.Equal(t, []string{"z-end"}, m, "news.2 filtered by brook after the cancellation")
					break
				}
			}
		})
	}
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("zmq4-pub/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			pub := patZmq4Pub(t)
			sub := newBrook(t, socket.Sub)
			events := watchEvents(t, sub)
			require.NoError(t, sub.Subscribe([]byte("news.")))
			if brookBinds {
				require.NoError(t, sub.Bind("tcp://127.0.0.1:0"))
				require.NoError(t, pub.Dial(sub.LastEndpoint()))
			} else {
				require.NoError(t, pub.Listen("tcp://127.0.0.1:0"))
				require.NoError(t, sub.Connect(zmq4Endpoint(t, pub, "tcp")))
			}
			events.waitType(ctx, t, socket.EventHandshakeSucceeded)
			for {
				require.NoError(t, pub.Send(zmq4.NewMsgString("news.probe")))
				rctx, cancel := context.WithTimeout(ctx, patProbeWait)
				_, err := sub.Recv(rctx)
				cancel()
				if err == nil {
					break
				}
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.NoError(t, ctx.Err(), "no probe arrived")
			}
			require.NoError(t, pub.Send(zmq4.NewMsgFrom([]byte("sport.1"))))
			require.NoError(t, pub.Send(zmq4.NewMsgFrom([]byte("news.1"), []byte("body"))))
			assert.Equal(t, []string{"news.1", "body"}, patBrookSkipping(ctx, t, sub, "news.probe"))
		})
	}
}

// TestZmq4ReqRep: brook REQ -> zmq4 REP and zmq4 REQ -> brook REP over
// tcp, each side binding where zmq4 allows it.
func TestZmq4ReqRep(t *testing.T) {
	for _, brookBinds := range []bool{true, false} {
		t.Run(fmt.Sprintf("brook-req/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			rep := newZmq4(t, zmq4.NewRep)
			req := newBrook(t, socket.Req)
			if brookBinds {
				require.NoError(t, req.Bind("tcp://127.0.0.1:0"))
				require.NoError(t, rep.Dial(req.LastEndpoint()))
			} else {
				require.NoError(t, rep.Listen("tcp://127.0.0.1:0"))
				require.NoError(t, req.Connect(zmq4Endpoint(t, rep, "tcp")))
			}
			served := make(chan error, 1)
			go func() {
				for i := 0; i < 20; i++ {
					m, err := rep.Recv()
					if err != nil {
						served <- err
						return
					}
					m.Frames[0] = append([]byte("re:"), m.Frames[0]...)
					if err := rep.Send(m); err != nil {
						served <- err
						return
					}
				}
				served <- nil
			}()
			for i := 0; i < 20; i++ {
				q := strconv.Itoa(i)
				requireSend(ctx, t, req, []byte(q), []byte("more"))
				assert.Equal(t, []string{"re:" + q, "more"}, patStrings(requireRecv(ctx, t, req)))
			}
			require.NoError(t, <-served)
		})
		t.Run(fmt.Sprintf("zmq4-req/brookBinds=%v", brookBinds), func(t *testing.T) {
			t.Parallel()
			ctx := deadline(t)
			req := newZmq4(t, zmq4.NewReq)
			rep := newBrook(t, socket.Rep)
			events := watchEvents(t, rep)
			if brookBinds {
				require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
				require.NoError(t, req.Dial(rep.LastEndpoint()))
			} else {
				require.NoError(t, req.Listen("tcp://127.0.0.1:0"))
				require.NoError(t, rep.Connect(zmq4Endpoint(t, req, "tcp")))
				// zmq4's REQ writes nowhere before a peer is connected,
				// and its listener registers a connection only after
				// its own side of the handshake: until then Send fails
				// with "no connections available" instead of waiting.
				events.waitType(ctx, t, socket.EventHandshakeSucceeded)
				for {
					err := req.Send(zmq4.NewMsgString("0"))
					if err == nil {
						break
					}
					require.ErrorContains(t, err, "no connections available")
					require.NoError(t, ctx.Err())
					time.Sleep(time.Millisecond)
				}
			}
			for i := 0; i < 20; i++ {
				q := strconv.Itoa(i)
				if i > 0 || brookBinds {
					require.NoError(t, req.Send(zmq4.NewMsgString(q)))
				}
				assert.Equal(t, []string{q}, patStrings(requireRecv(ctx, t, rep)))
				requireSend(ctx, t, rep, []byte("a"+q))
				assert.Equal(t, []string{"a" + q}, patStrings(zmq4Recv(ctx, t, req)))
			}
		})
	}
}
