package durable

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
)

// Record layout (see doc.go). All integers little-endian.
const (
	recordHeaderSize = 32
	recordAlign      = 8
	// maxRecordLen is the format's hard bound on a payload length; a decoder
	// rejects anything larger before allocating.
	maxRecordLen = 1 << 28

	flagMultipart uint32 = 1 << 0
	// flagGap marks a gap record written by RepairSkip over damaged bytes:
	// its payload starts with the uint64 offset of the next record, and it
	// stands for the offsets from its own up to that one.
	flagGap uint32 = 1 << 2
	// flagsKnown are the flag bits this format version defines; all others
	// are reserved and must be zero.
	flagsKnown = flagMultipart | flagGap
	// minGapSize is the on-disk size of the smallest gap record.
	minGapSize = recordHeaderSize + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Reasons a record fails to decode. They never escape the package bare: the
// caller turns them into a *CorruptError or treats them as a torn tail.
var (
	errShort   = errors.New("record incomplete")
	errLength  = errors.New("record length out of bounds")
	errFlags   = errors.New("record reserved bits set")
	errCRC     = errors.New("record checksum mismatch")
	errOffset  = errors.New("record offset out of sequence")
	errFraming = errors.New("multipart framing invalid")
)

func align8(n int) int { return (n + recordAlign - 1) &^ (recordAlign - 1) }

// recordSize is the on-disk size of a record with an n-byte payload.
func recordSize(n int) int { return recordHeaderSize + align8(n) }

// Record is one journal entry as returned by a Reader.
type Record struct {
	// Offset is the record's absolute offset.
	Offset uint64
	// Time is when the record was appended (non-decreasing along the log).
	Time time.Time
	// Data is the payload. For a multipart record it holds the encoded frames;
	// use Frames. The slice belongs to the caller.
	Data []byte

	multipart bool
}

// Multipart reports whether the record was appended with AppendMsg.
func (r Record) Multipart() bool { return r.multipart }

// Frames returns the frames of a multipart record, or the payload as a single
// frame for a plain record. The frames alias Data.
func (r Record) Frames() ([][]byte, error) {
	if !r.multipart {
		return [][]byte{r.Data}, nil
	}
	return decodeFrames(r.Data)
}

// framesSize is the encoded size of frames in a multipart payload.
func framesSize(frames [][]byte) int {
	n := 0
	for _, f := range frames {
		n += uvarintLen(uint64(len(f))) + len(f)
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func decodeFrames(b []byte) ([][]byte, error) {
	var frames [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errFraming
		}
		b = b[k:]
		frames = append(frames, b[:n:n])
		b = b[n:]
	}
	return frames, nil
}

// appendRecord encodes one record at the end of dst. Exactly one of payload
// and frames is used (frames when flags has flagMultipart).
func appendRecord(dst []byte, off uint64, ts int64, flags uint32, payload []byte, frames [][]byte) []byte {
	n := len(payload)
	if flags&flagMultipart != 0 {
		n = framesSize(frames)
	}
	size := recordSize(n)
	start := len(dst)
	if cap(dst)-start < size {
		grown := make([]byte, start, 2*cap(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+size]
	r := dst[start:]
	binary.LittleEndian.PutUint32(r[0:4], uint32(n))
	binary.LittleEndian.PutUint32(r[8:12], flags)
	binary.LittleEndian.PutUint32(r[12:16], 0)
	binary.LittleEndian.PutUint64(r[16:24], off)
	binary.LittleEndian.PutUint64(r[24:32], uint64(ts))
	body := r[recordHeaderSize:]
	if flags&flagMultipart != 0 {
		p := 0
		for _, f := range frames {
			p += binary.PutUvarint(body[p:], uint64(len(f)))
			p += copy(body[p:], f)
		}
	} else {
		copy(body, payload)
	}
	clear(body[n:])
	binary.LittleEndian.PutUint32(r[4:8], recordCRC(r))
	return dst
}

// recordCRC is the CRC32C of a whole encoded record except its CRC field:
// the length word, then everything after the CRC (flags, reserved, offset,
// timestamp, payload, padding).
func recordCRC(r []byte) uint32 {
	return crc32.Update(crc32.Checksum(r[0:4], castagnoli), castagnoli, r[8:])
}

// rawRecord is a decoded record whose payload aliases the input buffer.
type rawRecord struct {
	off     uint64
	ts      int64
	flags   uint32
	payload []byte
}

// peekLength returns the payload length and on-disk size of the record whose
// header starts b, checking the length bound before anything is allocated.
func peekLength(b []byte) (n int, size int, err error) {
	if len(b) < recordHeaderSize {
		return 0, 0, errShort
	}
	l := binary.LittleEndian.Uint32(b[0:4])
	if l > maxRecordLen {
		return 0, 0, errLength
	}
	return int(l), recordSize(int(l)), nil
}

// decodeRecord decodes and verifies the record at the start of b, which must
// carry offset want. It returns the record and its on-disk size. errShort
// means b ends inside the record.
func decodeRecord(b []byte, want uint64) (rawRecord, int, error) {
	n, size, err := peekLength(b)
	if err != nil {
		return rawRecord{}, 0, err
	}
	flags := binary.LittleEndian.Uint32(b[8:12])
	if flags&^flagsKnown != 0 || binary.LittleEndian.Uint32(b[12:16]) != 0 {
		return rawRecord{}, 0, errFlags
	}
	if len(b) < size {
		return rawRecord{}, 0, errShort
	}
	if recordCRC(b[:size]) != binary.LittleEndian.Uint32(b[4:8]) {
		return rawRecord{}, 0, errCRC
	}
	off := binary.LittleEndian.Uint64(b[16:24])
	if off != want {
		return rawRecord{}, 0, errOffset
	}
	rec := rawRecord{
		off:     off,
		ts:      int64(binary.LittleEndian.Uint64(b[24:32])),
		flags:   flags,
		payload: b[recordHeaderSize : recordHeaderSize+n : recordHeaderSize+n],
	}
	switch flags {
	case flagMultipart:
		if _, err := decodeFrames(rec.payload); err != nil {
			return rawRecord{}, 0, err
		}
	case flagGap:
		if n < 8 || binary.LittleEndian.Uint64(rec.payload) < off {
			return rawRecord{}, 0, errFraming
		}
	case flagMultipart | flagGap:
		return rawRecord{}, 0, errFlags
	}
	return rec, size, nil
}

// isGap reports whether r is a gap record.
func (r rawRecord) isGap() bool { return r.flags&flagGap != 0 }

// following returns the offset of the record after r: r's plus one, or for a
// gap record the offset it skips to.
func (r rawRecord) following() uint64 {
	if r.isGap() {
		return binary.LittleEndian.Uint64(r.payload)
	}
	return r.off + 1
}

// appendGap encodes a gap record of exactly size bytes on disk (a multiple of
// 8, at least minGapSize) standing for offsets [off, next).
func appendGap(dst []byte, off, next uint64, ts int64, size int) []byte {
	payload := make([]byte, size-recordHeaderSize)
	binary.LittleEndian.PutUint64(payload, next)
	return appendRecord(dst, off, ts, flagGap, payload, nil)
}

// plausibleHeader is a cheap filter used when searching for valid records
// after damage: reserved bits clear and an offset within [lo, hi].
func plausibleHeader(b []byte, lo, hi uint64) bool {
	if len(b) < recordHeaderSize {
		return false
	}
	if binary.LittleEndian.Uint32(b[8:12])&^flagsKnown != 0 || binary.LittleEndian.Uint32(b[12:16]) != 0 {
		return false
	}
	off := binary.LittleEndian.Uint64(b[16:24])
	return off >= lo && off <= hi && binary.LittleEndian.Uint32(b[0:4]) <= maxRecordLen
}

// recordOffsetField returns the offset field of a header without verifying it.
func recordOffsetField(b []byte) uint64 { return binary.LittleEndian.Uint64(b[16:24]) }

func (r rawRecord) toRecord() Record {
	data := make([]byte, len(r.payload))
	copy(data, r.payload)
	return Record{
		Offset:    r.off,
		Time:      time.Unix(0, r.ts),
		Data:      data,
		multipart: r.flags&flagMultipart != 0,
	}
}
