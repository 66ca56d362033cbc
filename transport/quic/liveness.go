package quic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The liveness stream's wire format.
const (
	prefaceLen = 8
	recordLen  = 9
	recordPing = 0x01
	recordPong = 0x02
)

// preface opens each direction of the liveness stream: "OMQL", version 1,
// three zero bytes.
func preface() [prefaceLen]byte {
	return [prefaceLen]byte{'O', 'M', 'Q', 'L', 1, 0, 0, 0}
}

// checkPreface validates the peer's liveness preface.
func checkPreface(b []byte) error {
	want := preface()
	if !bytes.Equal(b, want[:]) {
		return fmt.Errorf("bad liveness preface % x, want % x", b, want[:])
	}
	return nil
}

// record is one liveness record.
type record struct {
	kind  byte
	nonce uint64
}

func (r record) append(dst []byte) []byte {
	dst = append(dst, r.kind)
	return binary.BigEndian.AppendUint64(dst, r.nonce)
}

// parseRecord decodes a 9-byte record; an unknown type is an error.
func parseRecord(b []byte) (record, error) {
	if len(b) != recordLen {
		return record{}, fmt.Errorf("liveness record of %d bytes", len(b))
	}
	r := record{kind: b[0], nonce: binary.BigEndian.Uint64(b[1:])}
	if r.kind != recordPing && r.kind != recordPong {
		return record{}, fmt.Errorf("unknown liveness record type %#02x", r.kind)
	}
	return r, nil
}

// livenessStream is what the liveness protocol needs from a QUIC stream.
type livenessStream interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// liveness runs the liveness protocol on stream 4 once both prefaces are
// through: a reader goroutine that answers PINGs and drops the connection
// when no valid record arrives within the timeout, and a writer goroutine
// that sends a PING every interval and the PONGs the reader asks for. It
// never touches the data stream, so a blocked data stream cannot starve it.
type liveness struct {
	s        livenessStream
	interval time.Duration
	timeout  time.Duration
	// fail ends the connection with a close code; it may be called by both
	// goroutines, and more than once.
	fail func(code CloseCode, reason string)

	pongs chan uint64
	quit  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup
	// records counts the valid records received (tests watch it).
	records atomic.Int64
}

// pongQueue bounds the PONGs waiting to be written. A peer that sends
// PINGs faster than its PONGs can be written loses some PONGs; any record
// proves liveness, so it still hears from us.
const pongQueue = 16

func newLiveness(s livenessStream, interval, timeout time.Duration, fail func(CloseCode, string)) *liveness {
	return &liveness{
		s:        s,
		interval: interval,
		timeout:  timeout,
		fail:     fail,
		pongs:    make(chan uint64, pongQueue),
		quit:     make(chan struct{}),
	}
}

// start launches the two goroutines.
func (l *liveness) start() {
	l.wg.Add(2)
	go l.readLoop()
	go l.writeLoop()
}

// close stops the goroutines and waits for them. The stream must be made to
// fail (the connection closed, or deadlines set) for a blocked read or
// write to return; close sets expired deadlines itself.
func (l *liveness) close() {
	l.stop.Do(func() {
		close(l.quit)
		_ = l.s.SetReadDeadline(time.Unix(1, 0))
		_ = l.s.SetWriteDeadline(time.Unix(1, 0))
	})
	l.wg.Wait()
}

func (l *liveness) stopping() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

func (l *liveness) readLoop() {
	defer l.wg.Done()
	var buf [recordLen]byte
	for {
		_ = l.s.SetReadDeadline(time.Now().Add(l.timeout))
		if _, err := io.ReadFull(l.s, buf[:]); err != nil {
			if l.stopping() || connectionEnded(err) {
				return
			}
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				l.fail(CodeLivenessTimeout, fmt.Sprintf("no liveness record for %v", l.timeout))
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				l.fail(CodeInvalidLiveness, "liveness stream ended")
			default:
				l.fail(CodeInvalidLiveness, "liveness stream failed: "+err.Error())
			}
			return
		}
		r, err := parseRecord(buf[:])
		if err != nil {
			l.fail(CodeInvalidLiveness, err.Error())
			return
		}
		l.records.Add(1)
		if r.kind == recordPing {
			select {
			case l.pongs <- r.nonce:
			default:
			}
		}
	}
}

func (l *liveness) writeLoop() {
	defer l.wg.Done()
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	var nonce uint64
	var buf []byte
	for {
		var r record
		select {
		case <-l.quit:
			return
		case <-tick.C:
			nonce++
			r = record{kind: recordPing, nonce: nonce}
		case n := <-l.pongs:
			r = record{kind: recordPong, nonce: n}
		}
		buf = r.append(buf[:0])
		_ = l.s.SetWriteDeadline(time.Now().Add(l.timeout))
		if _, err := l.s.Write(buf); err != nil {
			if l.stopping() || connectionEnded(err) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				l.fail(CodeLivenessTimeout, fmt.Sprintf("peer took no liveness record for %v", l.timeout))
			} else {
				l.fail(CodeInvalidLiveness, "liveness stream failed: "+err.Error())
			}
			return
		}
	}
}
