package transporttest

import (
	"fmt"
	"sync"

	"github.com/stretchr/testify/assert"

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
