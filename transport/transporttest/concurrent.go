package transporttest

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// testConcurrent: each side has a writer and a reader goroutine, both
// directions at once, and a third goroutine closes both Conns mid-stream.
// Run under -race this checks the Conn's locking; everywhere it checks
// that every call returns, nothing panics, and what arrives is in order.
func testConcurrent(e *env) {
	c, s := e.pair()
	const (
		maxMsgs   = 50000 // per writer, in case Close comes late
		closeMark = 500   // each reader gets this many before the close
	)
	type outcome struct {
		side    string
		read    int
		readErr error
		order   error
	}
	readers := make(chan outcome, 2)
	writeErrs := make(chan error, 2)
	var progress sync.WaitGroup
	progress.Add(2)

	for _, side := range []struct {
		name string
		conn transport.Conn
	}{{"client", c}, {"server", s}} {
		e.goFn(func() {
			for i := range maxMsgs {
				if err := side.conn.WriteMsg(seqMsg(uint64(i))); err != nil {
					writeErrs <- err
					return
				}
				if i%64 == 63 {
					if err := side.conn.Flush(); err != nil {
						writeErrs <- err
						return
					}
				}
			}
			writeErrs <- side.conn.Flush()
		})
		e.goFn(func() {
			out := outcome{side: side.name}
			marked := false
			defer func() {
				if !marked {
					progress.Done()
				}
				readers <- out
			}()
			for {
				m, err := side.conn.ReadMsg()
				if err != nil {
					out.readErr = err
					return
				}
				seq, err := seqOf(m)
				if err == nil && seq != uint64(out.read) {
					err = fmt.Errorf("message %d carries %d", out.read, seq)
				}
				if err != nil && out.order == nil {
					out.order = err
				}
				out.read++
				if out.read == closeMark {
					marked = true
					progress.Done()
				}
			}
		})
	}
	closed := make(chan struct{})
	e.goFn(func() {
		progress.Wait()
		c.Close()
		s.Close()
		close(closed)
	})

	await(e, closed, "the closing goroutine")
	for range 2 {
		// A writer either finished or was stopped by Close; both are
		// fine, as long as it returns.
		await(e, writeErrs, "a writer to return")
	}
	for range 2 {
		out := await(e, readers, "a reader to return after Close")
		assert.NoError(e.t, out.order, "%s reader: messages out of order", out.side)
		assert.GreaterOrEqual(e.t, out.read, closeMark, "%s reader stopped early: %v", out.side, out.readErr)
		if out.side == "client" {
			// The client was closed first, by this process: its reader
			// must say so, not report some other failure.
			assert.ErrorIs(e.t, out.readErr, transport.ErrClosed, "client reader")
		}
	}
}

// mixedMsgs returns n messages of 1 to 5 frames with sizes from empty to
// past the 16-bit boundary, tagged with their index and side.
func mixedMsgs(side byte, n int) []transport.Msg {
	r := rand.New(rand.NewPCG(uint64(side), uint64(n)))
	sizes := []int{0, 1, 7, 255, 256, 1000, 4096, 0, 1, 65536, 70000}
	msgs := make([]transport.Msg, n)
	for i := range msgs {
		frames := make([][]byte, 1+r.IntN(5))
		frames[0] = fmt.Appendf(nil, "%c%d", side, i)
		for j := 1; j < len(frames); j++ {
			frames[j] = randomBytes(uint64(i*8+j), sizes[r.IntN(len(sizes))])
		}
		msgs[i] = transport.Msg{Frames: frames}
	}
	return msgs
}

// testBidirectional: both sides write and read mixed messages at the same
// time; everything arrives whole and in order.
func testBidirectional(e *env) {
	c, s := e.pair()
	const n = 200
	fromC, fromS := mixedMsgs('c', n), mixedMsgs('s', n)
	wantC, wantS := cloneAll(fromC), cloneAll(fromS)
	readS, readC := e.readN(s, n), e.readN(c, n)
	wroteC, wroteS := e.writeAll(c, fromC), e.writeAll(s, fromS)
	require.NoError(e.t, await(e, wroteC, "client writer"))
	require.NoError(e.t, await(e, wroteS, "server writer"))
	for _, dir := range []struct {
		name string
		want []transport.Msg
		got  <-chan result[[]transport.Msg]
	}{{"client to server", wantC, readS}, {"server to client", wantS, readC}} {
		r := await(e, dir.got, dir.name+" reader")
		require.NoError(e.t, r.err, "%s: after %d messages", dir.name, len(r.v))
		for i := range dir.want {
			e.requireSame(dir.want[i], r.v[i], "%s: message %d", dir.name, i)
		}
	}
}
