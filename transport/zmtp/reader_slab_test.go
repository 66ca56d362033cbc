package zmtp

import (
	"bytes"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// randomChunkRW reads its data back a few bytes at a time (1 to 7 at
// random), so that headers and bodies are cut everywhere.
type randomChunkRW struct {
	data []byte
	rnd  *rand.Rand
}

func (c *randomChunkRW) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1+c.rnd.IntN(7))], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *randomChunkRW) Write(p []byte) (int, error) { return len(p), nil }
func (c *randomChunkRW) Close() error                { return nil }

// slabTraffic is many small messages of one to four frames, from empty
// to the largest slab-carved body, so that messages keep straddling the
// ends of slabs; some have a large frame among small ones.
func slabTraffic(n int) []transport.Msg {
	rnd := rand.New(rand.NewPCG(3, 4))
	sizes := []int{1, 200, 700, 1000, 1500, maxSlabBody - 1, maxSlabBody, 0, maxSlabBody + 1, 9000}
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		frames := make([][]byte, 1+rnd.IntN(4))
		for j := range frames {
			size := sizes[rnd.IntN(len(sizes)-3)] // mostly slab-carved
			if rnd.IntN(20) == 0 {                // now and then empty, or large
				size = sizes[len(sizes)-3+rnd.IntN(3)]
			}
			frames[j] = patterned(size, i*5+j)
		}
		msgs[i] = transport.NewMsg(frames...)
	}
	return msgs
}

// rawStream is msgs as a peer writes them.
func rawStream(msgs []transport.Msg) []byte {
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
	return stream
}

// Once messages are released, the reader carves small bodies from
// recycled slabs, and a message that is not released keeps its bytes
// however much traffic follows: over a socket and through a stream read
// a few bytes at a time, with messages straddling slab ends. Slabs do
// come back (the test would pass trivially if none did).
func TestSlabRecyclingKeepsUnreleasedIntact(t *testing.T) {
	msgs := slabTraffic(6000)
	rnd := rand.New(rand.NewPCG(5, 6))
	keep := make([]bool, len(msgs))
	for i := range keep {
		keep[i] = rnd.IntN(40) == 0
	}
	check := func(t *testing.T, read func() (transport.Msg, error)) {
		recycling(t)
		_, back := bufpool.SlabStats()
		kept, want := readKeeping(t, read, msgs, keep)
		requireIntact(t, kept, want)
		_, after := bufpool.SlabStats()
		assert.Greater(t, after-back, int64(5), "slabs given back to the pool")
	}
	t.Run("tcp", func(t *testing.T) {
		w, r := nullPair(t)
		done := writeAll(w, msgs)
		check(t, r.ReadMsg)
		require.NoError(t, <-done)
	})
	t.Run("chunks", func(t *testing.T) {
		lone := minRecycledSlab
		minRecycledSlab = 0 // what arrives in a few bytes would look like lone messages
		t.Cleanup(func() { minRecycledSlab = lone })
		rw := &randomChunkRW{data: append(validPrefix(), rawStream(msgs)...), rnd: rand.New(rand.NewPCG(7, 8))}
		c := NewConn(rw, "local", "peer", Options{})
		defer c.Close()
		_, err := c.Handshake(t.Context(), &transport.Config{SocketType: "PULL"})
		require.NoError(t, err)
		check(t, c.ReadMsg)
	})
}

// A REP keeps a request's envelope (the frames up to the first empty
// one) after handing the rest to the application, which may release it:
// the envelope must keep its bytes until the reply is written.
func TestSlabRecyclingKeepsEnvelopes(t *testing.T) {
	recycling(t)
	const n = 3000
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		msgs[i] = transport.NewMsg(patterned(5, i), nil, patterned(900, i))
	}
	w, r := nullPair(t)
	done := writeAll(w, msgs)
	envs := make([][][]byte, n)
	for i := range n {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		require.Len(t, m.Frames, 3)
		envs[i] = m.Frames[:2:2]
		transport.Msg{Frames: m.Frames[2:]}.Release()
	}
	require.NoError(t, <-done)
	for i, env := range envs {
		require.True(t, bytes.Equal(msgs[i].Frames[0], env[0]), "envelope %d changed", i)
	}
}

// Frame lists hold the token just past their frames: Release takes it
// out, so a second Release of the message, or of a copy sharing its
// list, gives nothing back twice.
func TestSlabTokenReleasedOnce(t *testing.T) {
	recycling(t)
	msgs := slabTraffic(400)
	w, r := nullPair(t)
	done := writeAll(w, msgs)
	var got []transport.Msg
	tokens := 0
	for range msgs {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		if n := cap(m.Frames); n > len(m.Frames) && m.Frames[:n][n-1] != nil {
			tokens++
		}
		got = append(got, m)
	}
	require.NoError(t, <-done)
	assert.Greater(t, tokens, len(msgs)/2, "messages holding a slab")
	for _, m := range got {
		copied := m
		m.Release()
		if n := cap(m.Frames); n > 0 {
			assert.Nil(t, m.Frames[:n][n-1], "token taken out")
		}
		copied.Release()
	}
}

// Without a Release, small bodies never come from recycled slabs: no
// message carries a token, and no slab is taken from the pool.
func TestNoSlabsUntilReleased(t *testing.T) {
	require.False(t, bufpool.Active(), "tests leave recycling off")
	made, _ := bufpool.SlabStats()
	msgs := slabTraffic(400)
	w, r := nullPair(t)
	done := writeAll(w, msgs)
	for i := range msgs {
		m, err := r.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, len(m.Frames), cap(m.Frames), "message %d has no token", i)
	}
	require.NoError(t, <-done)
	now, _ := bufpool.SlabStats()
	assert.Equal(t, made, now)
}

// sizedChunkRW hands its reader the stream in reads of at most chunk bytes.
type sizedChunkRW struct {
	data  []byte
	chunk int
}

func (c *sizedChunkRW) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *sizedChunkRW) Write(p []byte) (int, error) { return len(p), nil }
func (c *sizedChunkRW) Close() error                { return nil }

// Tiny bodies are carved from recycled slabs too, with their frame lists
// from the slab's own entries: a stream of 16-byte messages released as
// they are read allocates nothing once the first slabs are made, where
// kept ones take their body and list (40 bytes each), and every message
// read so holds its bytes, whatever the slabs held before. The stream
// arrives in reads of 64 KiB (a backlog) and of 600 bytes (a reader
// keeping up with its peer).
func TestTinyBodiesReleasedAllocateNothing(t *testing.T) {
	const warm, n = 5000, 20000
	want := make([][]byte, warm+n)
	msgs := make([]transport.Msg, warm+n)
	for i := range msgs {
		want[i] = patterned(16, i)
		msgs[i] = transport.NewMsg(want[i])
	}
	stream := append(validPrefix(), rawStream(msgs)...)
	measure := func(release bool, chunk int) uint64 {
		bufpool.SetActive(release)
		defer bufpool.SetActive(false)
		c := NewConn(&sizedChunkRW{data: stream, chunk: chunk}, "local", "peer", Options{})
		defer c.Close()
		_, err := c.Handshake(t.Context(), &transport.Config{SocketType: "PULL"})
		require.NoError(t, err)
		var before, after runtime.MemStats
		var batch []transport.Msg
		for got := 0; got < warm+n; {
			if got == warm {
				runtime.ReadMemStats(&before)
			}
			end := warm + n
			if got < warm {
				end = warm
			}
			batch, err = c.ReadMsgs(batch[:0], min(128, end-got))
			require.NoError(t, err)
			for j, m := range batch {
				// (require.Len allocates: checked by hand.)
				if len(m.Frames) != 1 || !bytes.Equal(want[got+j], m.Frames[0]) {
					require.Fail(t, "a message does not hold its bytes", "message %d", got+j)
				}
				if release {
					m.Release()
				}
			}
			clear(batch)
			got += len(batch)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	gc := debug.SetGCPercent(-1) // the pool keeps what it is given
	defer debug.SetGCPercent(gc)
	for _, chunk := range []int{64 << 10, 600} {
		kept, released := measure(false, chunk), measure(true, chunk)
		t.Logf("reads of %d B: bytes allocated per 16 B message: kept %d, released %d", chunk, kept, released)
		assert.GreaterOrEqual(t, kept, uint64(16+24), "kept messages each take their body and list")
		if raceOn {
			continue // the race detector's sync.Pool drops a quarter of what it is given
		}
		assert.Zero(t, released, "released messages are read into reused slabs, lists and all")
	}
}

// Through real sockets, released 1 KiB messages are read into the
// slabs they gave back: the reader allocates a fraction of what it
// does when messages are kept (a new 32 KiB slab every 32 messages).
func TestSlabReuseAllocatesLess(t *testing.T) {
	const n = 4000
	measure := func(release bool) uint64 {
		bufpool.SetActive(release)
		defer bufpool.SetActive(false)
		w, r := nullPair(t)
		msg := transport.NewMsg(make([]byte, 1<<10))
		for range 200 { // warm up: the buffers, the first slabs
			require.NoError(t, w.WriteMsg(msg))
		}
		require.NoError(t, w.Flush())
		for range 200 {
			m, err := r.ReadMsg()
			require.NoError(t, err)
			if release {
				m.Release()
			}
		}
		done := sendRepeated(w, msg, n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			m, err := r.ReadMsg()
			require.NoError(t, err)
			if release {
				m.Release()
			}
		}
		runtime.ReadMemStats(&after)
		require.NoError(t, <-done)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	gc := debug.SetGCPercent(-1) // the pool keeps what it is given
	defer debug.SetGCPercent(gc)
	kept, released := measure(false), measure(true)
	t.Logf("bytes allocated per 1 KiB message: kept %d, released %d", kept, released)
	assert.GreaterOrEqual(t, kept, uint64(1<<10), "kept messages each take their body's bytes")
	assert.Less(t, released, kept/2, "released messages are read into reused slabs")
}

// gatedRW hands its reader the chunks sent on it, one at a time, waiting
// for the next when one is used up: the reader sees exactly what has
// arrived.
type gatedRW struct {
	chunks chan []byte
	cur    []byte
}

func (g *gatedRW) Read(p []byte) (int, error) {
	if len(g.cur) == 0 {
		c, ok := <-g.chunks
		if !ok {
			return 0, io.EOF
		}
		g.cur = c
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	return n, nil
}

func (g *gatedRW) Write(p []byte) (int, error) { return len(p), nil }
func (g *gatedRW) Close() error                { return nil }

// Once bodies are recycled, a body of half the large read buffer or more
// that has not arrived whole is read straight into its recycled buffer
// (one copy), not gathered in the large read buffer and copied out.
func TestRecycledLargeBodyReadStraight(t *testing.T) {
	for _, size := range []int{DefaultReadBufferSize / 2, 48 << 10, DefaultReadBufferSize} {
		t.Run(byteCount(size), func(t *testing.T) {
			recycling(t)
			poison(size)
			body := patterned(size, 9)
			frame := rawLongFrame(0, body)
			g := &gatedRW{chunks: make(chan []byte, 3)}
			g.chunks <- validPrefix()
			c := NewConn(g, "local", "peer", Options{})
			defer c.Close()
			_, err := c.Handshake(t.Context(), &transport.Config{SocketType: "PULL"})
			require.NoError(t, err)
			g.chunks <- frame[:len(frame)/3]
			g.chunks <- frame[len(frame)/3:]
			close(g.chunks)
			m, err := c.ReadMsg()
			require.NoError(t, err)
			require.True(t, bytes.Equal(body, m.Frames[0]))
			assert.Equal(t, bufpool.ClassSize(size), cap(m.Frames[0]), "a recycled buffer")
			assert.True(t, c.mem.rbox == nil, "the large read buffer was not used")
		})
	}
}
