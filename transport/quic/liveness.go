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

// Liveness timing. quic-go has no way to learn that a stream has data but
// a Read blocked on it, so rather than keep a goroutine blocked on stream
// 4 for each connection, the Conn's ticker polls it: every pollEvery at
// most (sooner if the liveness interval is shorter), with a Read that
// returns what has arrived or gives up after drainWait. So a PING is
// answered within pollEvery + drainWait, the peer's silence is noticed
// within the timeout, as before, and a connection costs no goroutine for
// liveness between ticks. A poll skips the Read when the connection has
// received no packet since the last one (see liveness.packets), so an
// idle connection's polls cost little more than the timer.
const (
	// pollEvery bounds the time between two reads of the liveness
	// stream, hence how late a PONG can be.
	pollEvery = 100 * time.Millisecond
	// drainWait is how long a poll's Read waits for data (quic-go's Read
	// gives up at once, with no data, on a deadline already past).
	drainWait = time.Millisecond
	// confirmWait is how long the poll that would declare the peer silent
	// waits for a record first, so a poll cut short by the scheduler
	// cannot drop a live peer.
	confirmWait = 20 * time.Millisecond
	// minTick is the shortest wait between two ticks.
	minTick = time.Millisecond
	// pollBuf is how many bytes one Read takes: 56 records.
	pollBuf = 56 * recordLen
)

// liveness runs the liveness protocol on stream 4 once both prefaces are
// through. The Conn's ticker drives it, from a timer, one tick at a time:
// each tick sends a PING when one is due (ping) and reads what the peer
// sent (poll), answering each PING with a PONG and dropping the
// connection when no valid record arrived within the timeout. It never
// touches the data stream, so a blocked data stream cannot starve it.
type liveness struct {
	s       livenessStream
	timeout time.Duration
	// fail ends the connection with a close code; it may be called more
	// than once.
	fail func(code CloseCode, reason string)

	// packets is the count of packets the connection has received, or
	// nil to read at every poll. quic-go counts a 1-RTT packet after
	// handling its frames, so when the count has not moved since before
	// the last Read, the stream has nothing new.
	packets func() uint64

	// Used by one tick at a time.
	seen      uint64 // packets before the last Read
	read      bool   // a Read has been done since seen was taken
	wbuf      []byte // PINGs and PONGs to write
	nonce     uint64
	rbuf      [pollBuf]byte
	rn        int       // bytes of a partial record at the start of rbuf
	lastHeard time.Time // when the last valid record was read

	quit chan struct{}
	stop sync.Once
	// records counts the valid records received (tests watch it).
	records atomic.Int64
}

func newLiveness(s livenessStream, timeout time.Duration, fail func(CloseCode, string)) *liveness {
	return &liveness{
		s:         s,
		timeout:   timeout,
		fail:      fail,
		quit:      make(chan struct{}),
		lastHeard: time.Now(),
	}
}

// close stops the protocol: a poll or a write blocked on the stream
// returns (close sets expired deadlines), and later ones do nothing.
func (l *liveness) close() {
	l.stop.Do(func() {
		close(l.quit)
		_ = l.s.SetReadDeadline(time.Unix(1, 0))
		_ = l.s.SetWriteDeadline(time.Unix(1, 0))
	})
}

func (l *liveness) stopping() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

// poll reads the records that have arrived, answers the PINGs among them
// and checks the silence, and reports whether the connection goes on. A
// peer silent for the timeout gets confirmWait more to be heard before
// the connection is dropped with code 3.
func (l *liveness) poll() bool {
	if l.arrived() && !l.drain(drainWait) {
		return false
	}
	if time.Since(l.lastHeard) < l.timeout {
		return true
	}
	// Read whatever the packet count says: this read decides.
	if !l.drain(confirmWait) {
		return false
	}
	if time.Since(l.lastHeard) < l.timeout {
		return true
	}
	l.fail(CodeLivenessTimeout, fmt.Sprintf("no liveness record for %v", l.timeout))
	return false
}

// arrived reports whether the connection received a packet since before
// the last Read (always, without a packet count), and notes the count for
// the Read that follows.
func (l *liveness) arrived() bool {
	if l.packets == nil {
		return true
	}
	n := l.packets()
	if l.read && n == l.seen {
		return false
	}
	l.seen, l.read = n, true
	return true
}

// next is how long the ticker may wait before the next poll, given how
// long until the next PING is due.
func (l *liveness) next(untilPing time.Duration) time.Duration {
	d := min(untilPing, untilPollSlot(time.Now()), time.Until(l.lastHeard.Add(l.timeout)))
	return max(d, minTick)
}

// untilPollSlot is the time from now to the next multiple of pollEvery
// (wall clock): the polls of all connections fall due together, so the
// runtime wakes once for all of them rather than once for each.
func untilPollSlot(now time.Time) time.Duration {
	return pollEvery - time.Duration(now.UnixNano()%int64(pollEvery))
}

// drain reads until the stream has nothing more within wait, handling
// each whole record, and reports whether the connection goes on.
func (l *liveness) drain(wait time.Duration) bool {
	if l.stopping() {
		return false
	}
	_ = l.s.SetReadDeadline(time.Now().Add(wait))
	for {
		n, err := l.s.Read(l.rbuf[l.rn:])
		l.rn += n
		if !l.handle() {
			return false
		}
		if err == nil {
			continue
		}
		switch {
		case l.stopping():
			return false
		case errors.Is(err, os.ErrDeadlineExceeded):
			return true
		case connectionEnded(err):
			return false
		case errors.Is(err, io.EOF):
			l.fail(CodeInvalidLiveness, "liveness stream ended")
		default:
			l.fail(CodeInvalidLiveness, "liveness stream failed: "+err.Error())
		}
		return false
	}
}

// handle takes the whole records at the start of rbuf, keeps a partial
// one for the next read, and answers the PINGs with one write. It reports
// whether the connection goes on.
func (l *liveness) handle() bool {
	pongs := l.wbuf[:0]
	off := 0
	for ; off+recordLen <= l.rn; off += recordLen {
		r, err := parseRecord(l.rbuf[off : off+recordLen])
		if err != nil {
			l.fail(CodeInvalidLiveness, err.Error())
			return false
		}
		l.records.Add(1)
		l.lastHeard = time.Now()
		if r.kind == recordPing {
			pongs = record{kind: recordPong, nonce: r.nonce}.append(pongs)
		}
	}
	l.rn = copy(l.rbuf[:], l.rbuf[off:l.rn])
	return len(pongs) == 0 || l.send(pongs)
}

// ping sends the next PING and reports whether the stream is still
// usable.
func (l *liveness) ping() bool {
	l.nonce++
	return l.send(record{kind: recordPing, nonce: l.nonce}.append(l.wbuf[:0]))
}

// send writes records within the liveness timeout; a peer that takes
// none for that long (flow control) is dropped with code 3. It keeps b
// for the next write and reports whether the stream is still usable.
func (l *liveness) send(b []byte) bool {
	l.wbuf = b[:0]
	if l.stopping() {
		return false
	}
	_ = l.s.SetWriteDeadline(time.Now().Add(l.timeout))
	_, err := l.s.Write(b)
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
