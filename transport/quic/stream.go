package quic

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// dataStream is stream 0 as the zmtp engine sees it: an io.ReadWriteCloser
// with deadlines and a half-close. It remembers what Close needs to pick
// its close code: did the peer end its side, did we, did a write fail.
// The engine reads from one goroutine and writes from another (its write
// lock serialises Write and CloseWrite).
type dataStream struct {
	s stream // a *quic.Stream

	// deadlineMu orders the deadlines set on the stream, so that the
	// past deadline Close sets is the last: a read deadline cleared
	// (ResumeRead) as Close runs must not undo it.
	deadlineMu  sync.Mutex
	closed      atomic.Bool
	readEOF     atomic.Bool // the peer ended its side of the stream
	writeFailed atomic.Bool // a Write did not complete: the stream may hold part of a frame
	writeEnded  atomic.Bool // CloseWrite ended our side of the stream
}

func newDataStream(s stream) *dataStream { return &dataStream{s: s} }

// stream is what dataStream uses of a *quic.Stream (tests fake it).
type stream interface {
	io.ReadWriter
	TryWriteAll(p []byte) error
	Close() error
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
}

var _ stream = (*quic.Stream)(nil)

// Read reads from the stream and notes the peer's end of stream.
func (d *dataStream) Read(p []byte) (int, error) {
	if d.closed.Load() {
		return 0, io.ErrClosedPipe
	}
	n, err := d.s.Read(p)
	if errors.Is(err, io.EOF) {
		d.readEOF.Store(true)
	}
	return n, err
}

// Write writes to the stream and notes a write that did not complete.
//
// A Write that handed all of p to QUIC succeeded, even if quic-go
// reports an error with it: a Write waiting for its last bytes to be
// packetized checks its deadline before seeing that they were, so a
// Close (which sets a past deadline) racing with it gives len(p) and
// "deadline exceeded" although every byte was sent and may well have
// arrived. Reported as a failure, the zmtp engine's Flush would fail and
// the socket would send the flushed messages again on the next
// connection: a duplicate, where ZeroMQ's rule is at most once. The
// error, if the stream is done for, comes with the next write.
func (d *dataStream) Write(p []byte) (int, error) {
	if d.closed.Load() {
		d.writeFailed.Store(true)
		return 0, io.ErrClosedPipe
	}
	n, err := d.s.Write(p)
	if err != nil && n == len(p) {
		return n, nil
	}
	if err != nil {
		d.writeFailed.Store(true)
	}
	return n, err
}

// maxTryWrite bounds what TryWrite queues: what fits, with room to spare,
// in the packet-sized STREAM frame quic-go keeps for a stream's next
// bytes. quic-go queues more in a frame allocated to size, which costs an
// allocation and a copy per write and was measured to double the p99 of
// 8 KiB round trips; Flush hands larger writes over without either.
const maxTryWrite = 1200

// TryWrite queues all of p on the stream if p is small (maxTryWrite) and
// the stream's and the connection's send windows have room for it,
// without waiting for quic-go to packetize it, and returns len(p); else it
// queues nothing and returns 0 (the zmtp engine's TryFlush then leaves it
// to Flush, which waits).
func (d *dataStream) TryWrite(p []byte) (int, error) {
	if d.closed.Load() {
		d.writeFailed.Store(true)
		return 0, io.ErrClosedPipe
	}
	if len(p) > maxTryWrite {
		return 0, nil
	}
	err := d.s.TryWriteAll(p)
	switch {
	case err == nil:
		return len(p), nil
	case errors.Is(err, quic.ErrWouldBlock):
		return 0, nil
	}
	d.writeFailed.Store(true)
	return 0, err
}

// CloseWrite ends our side of the stream after what was written (the
// zmtp engine's half-close).
func (d *dataStream) CloseWrite() error {
	if d.closed.Load() {
		return io.ErrClosedPipe
	}
	if d.writeEnded.Swap(true) {
		return nil
	}
	return d.s.Close()
}

// SetDeadline sets the read and write deadlines (the zmtp handshake guard
// uses it). After Close it does nothing: Close's past deadline stays.
func (d *dataStream) SetDeadline(t time.Time) error {
	d.deadlineMu.Lock()
	defer d.deadlineMu.Unlock()
	if d.closed.Load() {
		return nil
	}
	return d.s.SetDeadline(t)
}

// SetReadDeadline sets the read deadline: the zmtp engine's InterruptRead
// sets one in the past to cut short a read from the application's
// goroutine (inline reads), and ResumeRead clears it. After Close it does
// nothing, as SetDeadline.
func (d *dataStream) SetReadDeadline(t time.Time) error {
	d.deadlineMu.Lock()
	defer d.deadlineMu.Unlock()
	if d.closed.Load() {
		return nil
	}
	return d.s.SetReadDeadline(t)
}

// Close is called by the zmtp engine when the connection ends for any
// reason. It unblocks pending Reads and Writes (a Read or Write that
// starts later fails at once) but leaves the QUIC connection to
// Conn.Close, which picks the close code.
func (d *dataStream) Close() error {
	d.deadlineMu.Lock()
	defer d.deadlineMu.Unlock()
	if d.closed.Swap(true) {
		return nil
	}
	return d.s.SetDeadline(time.Unix(1, 0))
}
