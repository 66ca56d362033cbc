package durable

import (
	"errors"
	"io"
	"sync/atomic"

	"github.com/brookmq/brook/durable/internal/record"
)

// segment is one segment file. Fields marked (mu) are guarded by Log.mu; the
// writer goroutine alone writes through f.
type segment struct {
	base uint64
	path string
	idx  index
	// sealedEnd is the offset after the last record once the segment has a
	// successor (0 while it is the active segment). Readers use it to move on.
	sealedEnd atomic.Uint64

	f       File  // (mu) set before any of its records become visible
	size    int64 // (mu) logical size, including records not yet written
	end     uint64
	lastTS  int64 // (mu)
	created int64
	refs    int  // (mu) readers positioned in this segment
	removed bool // (mu) deleted by retention; close f when refs drops to 0

	written int64 // writer goroutine only: bytes written to f
	// uncached is where the page cache may still hold f's data: the
	// writer dropped the synced pages below it (writer goroutine only).
	uncached int64
}

func (s *segment) contains(off uint64) bool {
	e := s.sealedEnd.Load()
	return off >= s.base && (e == 0 || off < e)
}

// recReader reads verified records from a segment file through a buffer.
type recReader struct {
	f      File
	buf    []byte
	bufPos int64
	n      int
	chunk  int
}

func newRecReader(f File, chunk int) *recReader { return &recReader{f: f, chunk: chunk} }

func (r *recReader) reset(f File) {
	r.f = f
	r.n = 0
}

// fill reads at least need bytes at pos (fewer only at end of file).
func (r *recReader) fill(pos int64, need int) error {
	want := max(need, r.chunk)
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	n, err := r.f.ReadAt(r.buf, pos)
	r.bufPos, r.n = pos, n
	if err != nil && !errors.Is(err, io.EOF) {
		r.n = 0
		return err
	}
	return nil
}

// have reports whether [pos, pos+n) is in the buffer.
func (r *recReader) have(pos int64, n int) bool {
	return pos >= r.bufPos && pos+int64(n) <= r.bufPos+int64(r.n)
}

// record decodes and verifies the record at pos, which must carry offset want.
// Decoding errors (record.ErrShort at end of file, errCRC, ...) are returned bare; an
// I/O error is returned as is.
func (r *recReader) record(pos int64, want uint64) (record.Raw, int, error) {
	rec, size, err := r.try(pos, want, false)
	if err != nil && !isIOError(err) {
		// Bytes buffered earlier may have been read while the writer was
		// still writing them: read again before calling anything damaged.
		rec, size, err = r.try(pos, want, true)
	}
	return rec, size, err
}

func (r *recReader) try(pos int64, want uint64, fresh bool) (record.Raw, int, error) {
	if fresh || !r.have(pos, record.HeaderSize) {
		if err := r.fill(pos, record.HeaderSize); err != nil {
			return record.Raw{}, 0, ioError{err}
		}
	}
	i := int(pos - r.bufPos)
	_, size, err := record.Peek(r.buf[i:r.n])
	if err != nil {
		return record.Raw{}, 0, err
	}
	if !r.have(pos, size) {
		// The length is unverified: a damaged one may claim up to
		// record.MaxLen. Check it against the file before allocating a
		// buffer for it.
		fsize, err := r.f.Size()
		if err != nil {
			return record.Raw{}, 0, ioError{err}
		}
		if pos+int64(size) > fsize {
			return record.Raw{}, 0, record.ErrShort
		}
		if err := r.fill(pos, size); err != nil {
			return record.Raw{}, 0, ioError{err}
		}
		i = 0
	}
	return record.Decode(r.buf[i:r.n], want)
}

// ioError marks a read failure, as opposed to bytes that failed verification.
type ioError struct{ err error }

func (e ioError) Error() string { return e.err.Error() }
func (e ioError) Unwrap() error { return e.err }

func isIOError(err error) bool {
	var e ioError
	return errors.As(err, &e)
}

// scanResult is the outcome of scanning a segment's records from its header.
type scanResult struct {
	end     uint64 // offset after the last valid record
	pos     int64  // byte position after the last valid record
	lastTS  int64
	entries []indexEntry
	// bad is the decoding error at pos, nil if the scan reached the end of
	// the file exactly.
	bad error
}

// scanSegment verifies every record of a segment from its header to size,
// rebuilding the sparse index on the way. A record timestamp lower than its
// predecessor's is accepted (clocks can step back between runs) but the time
// index keeps timestamps non-decreasing.
func scanSegment(f File, base uint64, size int64, interval int64) (scanResult, error) {
	rr := newRecReader(f, scanChunk(size))
	res := scanResult{end: base, pos: segHdrSize}
	var lastIdx int64 = -1
	for res.pos < size {
		rec, n, err := rr.record(res.pos, res.end)
		if err != nil {
			if isIOError(err) {
				return res, err
			}
			res.bad = err
			return res, nil
		}
		if res.pos+int64(n) > size {
			res.bad = record.ErrShort
			return res, nil
		}
		ts := max(rec.Time, res.lastTS)
		if lastIdx < 0 || res.pos-lastIdx >= interval {
			res.entries = append(res.entries, indexEntry{off: rec.Offset, pos: res.pos, ts: ts})
			lastIdx = res.pos
		}
		res.lastTS = ts
		res.pos += int64(n)
		res.end = rec.Following()
	}
	return res, nil
}

// findValidAfter returns the position and offset of the first verifiable
// record with an offset at or after expect starting at an aligned position
// in (pos, limit) and ending by size. With proof set, only a record whose
// lag claims that expect had been fsynced counts: one found means the
// damage at pos is corruption, not a torn tail. (A record starts with a
// non-zero length or CRC, so limit can be the end of the non-zero bytes.)
func findValidAfter(f File, pos, limit, size int64, expect uint64, proof bool) (int64, uint64, bool, error) {
	rr := newRecReader(f, scanChunk(limit-pos))
	hi := expect + uint64(size-pos)/record.HeaderSize + 1
	for p := pos + record.Align; p < limit && p+record.HeaderSize <= size; p += record.Align {
		if !rr.have(p, record.HeaderSize) {
			if err := rr.fill(p, record.HeaderSize); err != nil {
				return 0, 0, false, err
			}
		}
		i := int(p - rr.bufPos)
		b := rr.buf[i:rr.n]
		if !record.Plausible(b, expect, hi) {
			continue
		}
		off := record.OffsetField(b)
		rec, n, err := rr.record(p, off)
		if isIOError(err) {
			return 0, 0, false, err
		}
		if err == nil && p+int64(n) <= size && (!proof || rec.SyncedEnd() > expect) {
			return p, off, true, nil
		}
	}
	return 0, 0, false, nil
}

// scanChunk is the read size for a sequential scan of a file of size bytes.
func scanChunk(size int64) int { return int(min(max(size, 4<<10), 1<<20)) }
