package transport_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// Release clears the message's frame list, so a second Release of the
// message (or of a copy sharing its list) finds nothing to give back.
func TestReleaseClearsFrames(t *testing.T) {
	small, large := []byte("small"), make([]byte, 64<<10)
	m := transport.NewMsg(small, large, nil)
	copied := m
	m.Release()
	assert.Equal(t, [][]byte{nil, nil, nil}, m.Frames)
	assert.Equal(t, [][]byte{nil, nil, nil}, copied.Frames, "copies share the list")
	m.Release()
	copied.Release()
	transport.Msg{}.Release()
	assert.Equal(t, "small", string(small), "frames outside the classes are left alone")
}

// A receiver of large messages gives each back once it is done with it,
// so that the messages after it are read into the same memory rather
// than into new allocations.
func ExampleMsg_Release() {
	ctx := context.Background()
	pull, err := socket.New(socket.Pull)
	if err != nil {
		log.Fatal(err)
	}
	defer pull.Close()
	if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	push, err := socket.New(socket.Push)
	if err != nil {
		log.Fatal(err)
	}
	defer push.Close()
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		log.Fatal(err)
	}

	const n = 100
	for i := range n {
		// Send takes the body over: a new one for every message.
		body := make([]byte, 64<<10)
		body[0] = byte(i)
		if err := push.Send(ctx, socket.NewMsg(body)); err != nil {
			log.Fatal(err)
		}
	}
	sum := 0
	for range n {
		m, err := pull.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		sum += int(m.Frames[0][0])
		// Done with m: its body may now hold a later message.
		m.Release()
	}
	fmt.Println(sum)
	// Output: 4950
}

// slabBody is the body of message i: 200 to 1500 bytes, all its own.
func slabBody(i, frame int) []byte {
	b := make([]byte, 200+(i*37+frame*500)%1300)
	for j := range b {
		b[j] = byte(i*7 + frame*3 + j)
	}
	return b
}

// Through real sockets (batched and inline reads, the socket layer's
// queues), an application that releases most messages gets later ones
// read into the memory it gave back, and the messages it keeps are left
// intact however much traffic follows.
func TestReleaseKeepsUnreleasedIntactThroughSockets(t *testing.T) {
	ctx := t.Context()
	pull, err := socket.New(socket.Pull)
	require.NoError(t, err)
	defer pull.Close()
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	push, err := socket.New(socket.Push)
	require.NoError(t, err)
	defer push.Close()
	require.NoError(t, push.Connect(pull.LastEndpoint()))

	const n = 20000
	sent := make(chan error, 1)
	go func() {
		for i := range n {
			if err := push.Send(ctx, socket.NewMsg(slabBody(i, 0), slabBody(i, 1))); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	kept := map[int]transport.Msg{}
	for i := range n {
		m, err := pull.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, m.Frames, 2)
		require.Equal(t, slabBody(i, 0), m.Frames[0], "message %d", i)
		require.Equal(t, slabBody(i, 1), m.Frames[1], "message %d", i)
		if i%97 == 0 {
			kept[i] = m
		} else {
			m.Release()
		}
	}
	require.NoError(t, <-sent)
	for i, m := range kept {
		require.Equal(t, slabBody(i, 0), m.Frames[0], "kept message %d changed", i)
		require.Equal(t, slabBody(i, 1), m.Frames[1], "kept message %d changed", i)
	}
}

// A REP keeps each request's envelope to route the reply after handing
// the application the rest, which it may release before replying: the
// replies still reach the DEALER with the envelope it sent, even when
// they wait in the REP's queue (large replies, read late) while later
// requests are read into memory released meanwhile.
func TestReleasedRequestsKeepTheirEnvelopes(t *testing.T) {
	ctx := t.Context()
	const n = 3000
	// The REP queues every reply (a REP drops at its HWM); the DEALER
	// takes few, so that replies wait in the REP's queue.
	rep, err := socket.New(socket.Rep, socket.WithSendHWM(2*n))
	require.NoError(t, err)
	defer rep.Close()
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	dealer, err := socket.New(socket.Dealer, socket.WithRecvHWM(10))
	require.NoError(t, err)
	defer dealer.Close()
	require.NoError(t, dealer.Connect(rep.LastEndpoint()))

	served := make(chan error, 1)
	go func() {
		for range n {
			m, err := rep.Recv(ctx)
			if err != nil {
				served <- err
				return
			}
			reply := make([]byte, 32<<10)
			copy(reply, m.Frames[0][:8])
			m.Release()
			if err := rep.Send(ctx, socket.NewMsg(reply)); err != nil {
				served <- err
				return
			}
		}
		served <- nil
	}()
	for i := range n {
		env := fmt.Appendf(nil, "env-%06d", i)
		require.NoError(t, dealer.Send(ctx, socket.NewMsg(env, nil, slabBody(i, 0))))
	}
	for i := range n {
		m, err := dealer.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, m.Frames, 3)
		require.Equal(t, fmt.Sprintf("env-%06d", i), string(m.Frames[0]), "reply %d", i)
		require.Equal(t, string(slabBody(i, 0)[:8]), string(m.Frames[2][:8]), "reply %d", i)
		m.Release()
	}
	require.NoError(t, <-served)
}
