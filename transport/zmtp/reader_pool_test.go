package zmtp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// recycling turns the reader's recycling on for the test, as a first
// Release would, and the collector off, so that the pools keep what is
// put back (a collection may empty them).
func recycling(t *testing.T) {
	t.Helper()
	bufpool.SetActive(true)
	gc := debug.SetGCPercent(-1)
	t.Cleanup(func() {
		bufpool.SetActive(false)
		debug.SetGCPercent(gc)
	})
}

// poison fills the pools with buffers of the classes of the given sizes,
// every byte 0xEE, so that a body not overwritten whole would show it.
func poison(sizes ...int) {
	for _, n := range sizes {
		for range 4 {
			b, ok := bufpool.Get(n)
			if !ok {
				continue
			}
			b = b[:cap(b)]
			for i := range b {
				b[i] = 0xEE
			}
			bufpool.Put(b)
		}
	}
}

// connPair makes a handshaken writer (PUSH) and reader (PULL) over
// loopback TCP, plain or CURVE.
type connPair func(t testing.TB) (w, r *Conn)

func nullPair(t testing.TB) (w, r *Conn) {
	w, r = tcpConns(t, Options{})
	mustHandshake(t, w, r, &transport.Config{SocketType: "PUSH"}, &transport.Config{SocketType: "PULL", MaxMsgSize: 64 << 20})
	return w, r
}

func curvePairDefault(t testing.TB) (w, r *Conn) { return curvePair(t, Options{}) }

var pairs = []struct {
	name string
	pair connPair
}{{"NULL", nullPair}, {"CURVE", curvePairDefault}}

// writeAll writes msgs on w, in the background.
func writeAll(w *Conn, msgs []transport.Msg) <-chan error {
	done := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := w.WriteMsg(m); err != nil {
				done <- err
				return
			}
		}
		done <- w.Flush()
	}()
	return done
}

// A body given back with Release is the memory a later body is read
// into: on every path of the reader (copied out of the read buffer, read
// straight into its own memory, decrypted into it), plain and CURVE.
func TestReleasedBodiesAreReused(t *testing.T) {
	for _, p := range pairs {
		for _, size := range []int{10 << 10, 40 << 10, 64 << 10, 200 << 10} {
			t.Run(p.name+"/"+byteCount(size), func(t *testing.T) {
				recycling(t)
				const n = 160 // enough that the race detector's random drops cannot bring reuse under half
				w, r := p.pair(t)
				msgs := make([]transport.Msg, n)
				for i := range msgs {
					msgs[i] = transport.NewMsg(patterned(size, i))
				}
				done := writeAll(w, msgs)
				seen := map[*byte]bool{}
				reused := 0
				for i := range n {
					m, err := r.ReadMsg()
					require.NoError(t, err)
					require.Len(t, m.Frames, 1)
					f := m.Frames[0]
					require.True(t, bytes.Equal(msgs[i].Frames[0], f), "message %d", i)
					assert.Equal(t, bufpool.ClassSize(size), cap(f), "a recycled body has its class's capacity")
					if seen[unsafe.SliceData(f)] {
						reused++
					}
					seen[unsafe.SliceData(f)] = true
					m.Release()
					assert.Nil(t, m.Frames[0])
				}
				require.NoError(t, <-done)
				// The race detector's sync.Pool drops a quarter of what
				// is put back.
				assert.GreaterOrEqual(t, reused, n/2, "bodies read into released memory")
			})
		}
	}
}

// Messages of every size and shape, some kept and some released while
// reading goes on, keep their bytes: no two live messages share memory,
// and a recycled body never shows bytes of another message (the pools
// start out filled with 0xEE).
func TestRecyclingKeepsLiveMessagesApart(t *testing.T) {
	sizes := []int{0, 1, 100, 2 << 10, 2<<10 + 1, 3000, 10 << 10, 32 << 10, 33 << 10, 40 << 10,
		64<<10 - 40, 64 << 10, 65 << 10, 100 << 10, 300 << 10}
	rnd := rand.New(rand.NewPCG(1, 2))
	msgs := make([]transport.Msg, 300)
	seed := 0
	for i := range msgs {
		frames := make([][]byte, 1+rnd.IntN(3))
		for j := range frames {
			seed++
			frames[j] = patterned(sizes[rnd.IntN(len(sizes))], seed)
		}
		msgs[i] = transport.NewMsg(frames...)
	}
	keep := make([]bool, len(msgs))
	for i := range keep {
		keep[i] = rnd.IntN(3) == 0
	}
	check := func(t *testing.T, read func() (transport.Msg, error)) {
		recycling(t)
		poison(sizes...)
		kept, want := readKeeping(t, read, msgs, keep)
		requireIntact(t, kept, want)
		type span struct{ from, to uintptr }
		var spans []span
		for _, m := range kept {
			for _, f := range m.Frames {
				if cap(f) > 0 {
					from := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
					spans = append(spans, span{from, from + uintptr(cap(f))})
				}
			}
		}
		for i, a := range spans {
			for _, b := range spans[i+1:] {
				require.False(t, a.from < b.to && b.from < a.to, "two kept frames share memory")
			}
		}
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			w, r := p.pair(t)
			done := writeAll(w, msgs)
			check(t, r.ReadMsg)
			require.NoError(t, <-done)
		})
	}
	// Through a stream that is no socket, in reads of a few sizes: the
	// read buffer's paths rather than readv's.
	var stream []byte
	for _, m := range msgs {
		for j, f := range m.Frames {
			var flags byte
			if j < len(m.Frames)-1 {
				flags = flagMore
			}
			stream = append(stream, rawFrame(flags, f)...)
		}
	}
	for _, step := range []int{7, 9000, 100 << 10} {
		t.Run("chunks/"+byteCount(step), func(t *testing.T) {
			c := NewConn(&chunkRW{data: append(validPrefix(), stream...), step: step}, "local", "peer", Options{})
			defer c.Close()
			_, err := c.Handshake(t.Context(), &transport.Config{SocketType: "PULL"})
			require.NoError(t, err)
			check(t, c.ReadMsg)
		})
	}
}

// A peer that hangs up in the middle of a large body gets no message
// delivered, recycling or not: the partly filled body is dropped. The
// message before it is whole.
func TestRecyclingPeerHangsUpMidBody(t *testing.T) {
	for _, size := range []int{20 << 10, 48 << 10, 64 << 10, 1 << 20} {
		t.Run(byteCount(size), func(t *testing.T) {
			recycling(t)
			poison(size)
			c, p := shaken(t, 1, nil, Options{})
			whole := patterned(size, 1)
			frame := rawLongFrame(0, patterned(size, 2))
			p.send(rawLongFrame(0, whole), frame[:len(frame)-size/3])
			require.NoError(t, p.c.Close())
			m, err := c.ReadMsg()
			require.NoError(t, err)
			require.True(t, bytes.Equal(whole, m.Frames[0]))
			m, err = c.ReadMsg()
			require.Error(t, err)
			assert.Empty(t, m.Frames)
			assert.True(t, errors.Is(err, io.EOF), "error %v matches io.EOF", err)
		})
	}
}

// rawCurvePair is a raw CURVE client handshaken with a server Conn.
func rawCurvePair(t *testing.T) (*rawCurveClient, *Conn) {
	t.Helper()
	server, client := newTestKeys(t), newTestKeys(t)
	_, srvCfg := curveConfigs(t, server, client, nil)
	rc, srv, res := rawCurveHandshake(t, CurveClient{ServerKey: server.public, SecretKey: client.secret}, srvCfg)
	require.NoError(t, (<-res).err)
	return rc, srv
}

// A CURVE MESSAGE that does not open, or that the peer cuts short, is
// not delivered, recycling or not: nothing of it is decrypted into a
// body that could be.
func TestRecyclingCurveBrokenMessages(t *testing.T) {
	for _, size := range []int{10 << 10, 40 << 10, 64 << 10, 300 << 10} {
		t.Run(byteCount(size), func(t *testing.T) {
			recycling(t)
			poison(size)
			rc, srv := rawCurvePair(t)
			whole := patterned(size, 1)
			good := boxed(t, rc.tx, rawFrame(0, whole))
			forged := boxed(t, rc.tx, rawFrame(0, patterned(size, 2)))
			forged[len(forged)-size/2] ^= 1
			go rc.send(good, forged)
			m, err := srv.ReadMsg()
			require.NoError(t, err)
			require.True(t, bytes.Equal(whole, m.Frames[0]))
			m.Release()
			m, err = srv.ReadMsg()
			assert.ErrorIs(t, err, ErrDecrypt)
			assert.Empty(t, m.Frames)
		})
		t.Run(byteCount(size)+"/cut", func(t *testing.T) {
			recycling(t)
			poison(size)
			rc, srv := rawCurvePair(t)
			cut := boxed(t, rc.tx, rawFrame(0, patterned(size, 2)))
			go func() {
				rc.send(cut[:len(cut)-size/3])
				_ = rc.c.Close()
			}()
			m, err := srv.ReadMsg()
			assert.ErrorIs(t, err, io.EOF)
			assert.Empty(t, m.Frames)
		})
	}
}

// Without a Release, the reader allocates bodies at their size, as it
// always has: nothing of the pools shows.
func TestNoRecyclingUntilReleased(t *testing.T) {
	require.False(t, bufpool.Active(), "tests leave recycling off")
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			w, r := p.pair(t)
			msgs := []transport.Msg{transport.NewMsg(patterned(50000, 1)), transport.NewMsg(patterned(70000, 2))}
			done := writeAll(w, msgs)
			for i := range msgs {
				m, err := r.ReadMsg()
				require.NoError(t, err)
				assert.Equal(t, len(m.Frames[0]), cap(m.Frames[0]), "message %d", i)
			}
			require.NoError(t, <-done)
		})
	}
}

// readKeeping reads len(msgs) messages with read, checks each against
// what was sent, keeps those marked in keep and releases the others, so
// the reader may reuse their memory. It returns the kept messages and
// what they must still hold.
func readKeeping(t *testing.T, read func() (transport.Msg, error), msgs []transport.Msg, keep []bool) (kept, want []transport.Msg) {
	t.Helper()
	for i, sent := range msgs {
		m, err := read()
		require.NoError(t, err, "message %d", i)
		require.Len(t, m.Frames, len(sent.Frames), "message %d", i)
		for j := range sent.Frames {
			require.True(t, bytes.Equal(sent.Frames[j], m.Frames[j]), "message %d frame %d", i, j)
		}
		if keep[i] {
			kept, want = append(kept, m), append(want, sent)
		} else {
			m.Release()
		}
	}
	return kept, want
}

// requireIntact checks that the kept messages still hold what was sent,
// whatever the reader did with the memory of those released meanwhile.
func requireIntact(t *testing.T, kept, want []transport.Msg) {
	t.Helper()
	for i, m := range kept {
		for j, f := range m.Frames {
			require.True(t, bytes.Equal(want[i].Frames[j], f), "kept message %d frame %d changed", i, j)
		}
	}
}
