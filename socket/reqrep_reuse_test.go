package socket_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// REQ and REP reuse the frame list of an envelope that went out whole for
// the next one. Requests and replies of several frames, some small enough
// to be written inline and some too large (their lists go to the writer
// goroutine and must not be reused while it holds them), each with bytes
// of its own, arrive intact and in their own round trip, with and without
// request ids.
func TestReqRepEnvelopeReuseKeepsEveryMessage(t *testing.T) {
	for _, correlate := range []bool{false, true} {
		t.Run(fmt.Sprintf("correlate=%v", correlate), func(t *testing.T) {
			ctx := testCtx(t)
			rep := newSocket(t, socket.Rep)
			require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
			req := newSocket(t, socket.Req, socket.WithReqCorrelate(correlate))
			require.NoError(t, req.Connect(rep.LastEndpoint()))

			served := make(chan error, 1)
			const rounds = 300
			go func() {
				served <- func() error {
					for range rounds {
						m, err := rep.Recv(ctx)
						if err != nil {
							return err
						}
						// The reply: every request frame reversed, then
						// one more frame, so its shape differs from the
						// request's.
						reply := make([][]byte, 0, len(m.Frames)+1)
						for _, f := range m.Frames {
							r := bytes.Clone(f)
							for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
								r[i], r[j] = r[j], r[i]
							}
							reply = append(reply, r)
						}
						reply = append(reply, []byte("end"))
						if err := rep.Send(ctx, socket.NewMsg(reply...)); err != nil {
							return err
						}
					}
					return nil
				}()
			}()

			for i := range rounds {
				frames := requestFrames(i)
				require.NoError(t, req.Send(ctx, socket.NewMsg(frames...)))
				m, err := req.Recv(ctx)
				require.NoError(t, err)
				require.Len(t, m.Frames, len(frames)+1, "round %d", i)
				for k, f := range frames {
					r := bytes.Clone(m.Frames[k])
					for a, b := 0, len(r)-1; a < b; a, b = a+1, b-1 {
						r[a], r[b] = r[b], r[a]
					}
					require.True(t, bytes.Equal(f, r), "round %d, frame %d", i, k)
				}
				assert.Equal(t, "end", string(m.Frames[len(frames)]))
				m.Release()
			}
			require.NoError(t, <-served)
		})
	}
}

// requestFrames is round i's request: one to three frames, each filled
// with its own bytes; every fifth request is larger than a message
// written inline.
func requestFrames(i int) [][]byte {
	size := 16 + i%7
	if i%5 == 0 {
		size = 20 << 10
	}
	frames := make([][]byte, 1+i%3)
	for k := range frames {
		f := make([]byte, size+k)
		for j := range f {
			f[j] = byte(i*31 + k*7 + j)
		}
		frames[k] = f
	}
	return frames
}

// A REQ/REP round trip over tcp allocates only what the received messages
// take (a body and a frame list each, at most): the envelopes' frame
// lists are reused.
func TestReqRepRoundTripAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over many round trips")
	}
	ctx := context.Background()
	rep := newSocket(t, socket.Rep)
	require.NoError(t, rep.Bind("tcp://127.0.0.1:0"))
	req := newSocket(t, socket.Req)
	require.NoError(t, req.Connect(rep.LastEndpoint()))
	served := make(chan error, 1)
	go func() {
		for {
			m, err := rep.Recv(ctx)
			if err == nil {
				err = rep.Send(ctx, m)
			}
			if err != nil {
				served <- err
				return
			}
		}
	}()
	msg := socket.NewMsg(make([]byte, 16))
	roundTrip := func() {
		if err := req.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		m, err := req.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m.Release()
	}
	for range 1000 { // connections, buffers, the inline reading role
		roundTrip()
	}
	allocs := testing.AllocsPerRun(2000, roundTrip)
	t.Logf("%.2f allocations per round trip", allocs)
	// Two received messages, two allocations each, and some slack for
	// the runtime's and the reader goroutines' own; six before envelopes
	// were reused.
	assert.Less(t, allocs, 5.0)
	require.NoError(t, rep.Close())
	require.Error(t, <-served)
}
