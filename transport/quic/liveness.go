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
// through: a reader goroutine answers PINGs with PONGs and drops the
// connection when no valid record arrives within the timeout, and the
// Conn's ticker sends a PING every interval (ping). It never touches the
// data stream, so a blocked data stream cannot starve it.
type liveness struct {
	s       livenessStream
	timeout time.Duration
	// fail ends the connection with a close code; it may be called by the
	// reader and the ticker, and more than once.
	fail func(code CloseCode, reason string)

	// wmu serialises the writers (the reader's PONGs, the ticker's
	// PINGs).
	wmu   sync.Mutex
	wbuf  [recordLen]byte
	nonce uint64

	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup // the reader
	// records counts the valid records received (tests watch it).
	records atomic.Int64
}

func newLiveness(s livenessStream, timeout time.Duration, fail func(CloseCode, string)) *liveness {
	return &liveness{
		s:       s,
		timeout: timeout,
		fail:    fail,
		quit:    make(chan struct{}),
	}
}

// start launches the reader.
func (l *liveness) start() {
	l.wg.Add(1)
	go l.readLoop()
}

// close stops the reader and waits for it. The stream must be made to fail
// (the connection closed, or deadlines set) for a blocked read or write to
// return; close sets expired deadlines itself.
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
		if r.kind == recordPing && !l.send(record{kind: recordPong, nonce: r.nonce}) {
			return
		}
	}
}

// ping sends the next PING and reports whether the stream is still
// usable.
func (l *liveness) ping() bool {
	l.wmu.Lock()
	l.nonce++
	n := l.nonce
	l.wmu.Unlock()
	return l.send(record{kind: recordPing, nonce: n})
}

// send writes one record within the liveness timeout; a peer that takes
// none for that long (flow control) is dropped with code 3. It reports
// whether the stream is still usable.
func (l *liveness) send(r record) bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.stopping() {
		return false
	}
	_ = l.s.SetWriteDeadline(time.Now().Add(l.timeout))
	_, err := l.s.Write(r.append(l.wbuf[:0]))
	if err == nil {
		return true
	}
	switch {
	case l.stopping() || connectionEnded(err):
	case errors.Is(err, os.ErrDeadlineExceeded):
		l.fail(CodeLivenessTimeout, fmt.Sprintf("peer took no liveness record for %v", l.timeout))
	default:
		l.fail(CodeInvalidLiveness, "liveness stream failed: "+err.Error())
	}
	return false
}
