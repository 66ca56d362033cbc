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
// with deadlines. It remembers what Close needs to know to end the
// connection gracefully (did the peer end its side, did a write fail), and
// lets Close wait until no Read or Write is in progress before it takes the
// stream over.
type dataStream struct {
	s *quic.Stream

	rmu, wmu    sync.Mutex // held during a Read / a Write
	closed      atomic.Bool
	readEOF     atomic.Bool // the peer ended its side of the stream
	writeFailed atomic.Bool // a Write did not complete: the stream may hold part of a frame
	writeEnded  atomic.Bool // CloseWrite ended our side of the stream
}

func newDataStream(s *quic.Stream) *dataStream { return &dataStream{s: s} }

// Read reads from the stream and notes the peer's end of stream.
func (d *dataStream) Read(p []byte) (int, error) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
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
func (d *dataStream) Write(p []byte) (int, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.closed.Load() {
		d.writeFailed.Store(true)
		return 0, io.ErrClosedPipe
	}
	n, err := d.s.Write(p)
	if err != nil {
		d.writeFailed.Store(true)
	}
	return n, err
}

// CloseWrite ends our side of the stream after what was written (the
// zmtp engine's half-close).
func (d *dataStream) CloseWrite() error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.closed.Load() {
		return io.ErrClosedPipe
	}
	if d.writeEnded.Swap(true) {
		return nil
	}
	return d.s.Close()
}

// SetDeadline sets the read and write deadlines (the zmtp handshake guard
// uses it).
func (d *dataStream) SetDeadline(t time.Time) error { return d.s.SetDeadline(t) }

// Close is called by the zmtp engine when the connection ends for any
// reason. It unblocks pending Reads and Writes but leaves the stream and
// the QUIC connection to Conn.Close, which decides how they end.
func (d *dataStream) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.s.SetDeadline(time.Unix(1, 0))
}

// takeOver waits until no Read or Write is in progress; the caller then
// owns the stream (Close must have been called). release undoes it.
func (d *dataStream) takeOver() (release func()) {
	d.rmu.Lock()
	d.wmu.Lock()
	_ = d.s.SetDeadline(time.Time{})
	return func() {
		d.wmu.Unlock()
		d.rmu.Unlock()
	}
}
