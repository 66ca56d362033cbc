// Package record is the framing of one journal record: the encoder, the
// verifying decoder and the multipart frame encoding. The layout it
// implements is specified in package durable's documentation (doc.go,
// "Record"); this package holds no other knowledge of the journal.
//
// A record is a 32-byte little-endian header followed by the payload padded
// with zeros to a multiple of 8:
//
//	 0       4       8       12      16              24              32
//	+-------+-------+-------+-------+---------------+---------------+
//	|length | crc32c| flags |  lag  |    offset     |   timestamp   |
//	+-------+-------+-------+-------+---------------+---------------+
//
// The decoder checks the length bound before it reads or allocates anything,
// then the flags, the CRC, the offset and, for multipart and gap records, the
// payload's own structure. Decoded payloads alias the input.
package record

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
)

// Layout constants.
const (
	// HeaderSize is the size of a record header.
	HeaderSize = 32
	// Align is the alignment of every record (and so of every length word).
	Align = 8
	// MaxLen is the format's hard bound on a payload length; Decode rejects
	// anything larger before allocating.
	MaxLen = 1 << 28
	// MinGapSize is the on-disk size of the smallest gap record.
	MinGapSize = HeaderSize + 8
	// MaxLag is the largest lag a header can carry; a larger distance to the
	// synced end is stored as MaxLag (a smaller, still true, claim).
	MaxLag = math.MaxUint32
)

// Flag bits.
const (
	// FlagMultipart marks a payload that is a sequence of frames, each a
	// uvarint length followed by that many bytes.
	FlagMultipart uint32 = 1 << 0
	// FlagGap marks a gap record written by a repair over damaged bytes: its
	// payload starts with the uint64 offset of the record after it, and it
	// stands for the offsets from its own up to that one.
	FlagGap uint32 = 1 << 2
	// FlagsKnown are the flag bits this format version defines; all others
	// are reserved and must be zero (bit 1 is set aside for compression).
	FlagsKnown = FlagMultipart | FlagGap
)

// Reasons a record fails to decode.
var (
	// ErrShort means the input ends inside the record.
	ErrShort = errors.New("record incomplete")
	// ErrLength means the length word is above MaxLen.
	ErrLength = errors.New("record length out of bounds")
	// ErrFlags means reserved flag bits are set or the flags contradict
	// each other.
	ErrFlags = errors.New("record reserved bits set")
	// ErrCRC means the checksum does not match.
	ErrCRC = errors.New("record checksum mismatch")
	// ErrOffset means the record carries another offset than expected, or
	// a lag larger than its offset.
	ErrOffset = errors.New("record offset out of sequence")
	// ErrFraming means a multipart or gap payload is malformed.
	ErrFraming = errors.New("multipart framing invalid")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is what a record says about its payload.
type Header struct {
	// Offset is the record's absolute offset.
	Offset uint64
	// Lag is the distance from the synced end to Offset when the record was
	// encoded: every offset below Offset-Lag was already fsynced.
	Lag uint32
	// Time is the append time in Unix nanoseconds.
	Time int64
	// Flags holds FlagMultipart or FlagGap.
	Flags uint32
}

// LagFor returns the lag of a record at off when the synced end is synced
// (at most off), saturated at MaxLag.
func LagFor(off, synced uint64) uint32 {
	if synced >= off {
		return 0
	}
	if d := off - synced; d < MaxLag {
		return uint32(d)
	}
	return MaxLag
}

// Pad rounds n up to the record alignment.
func Pad(n int) int { return (n + Align - 1) &^ (Align - 1) }

// Size is the on-disk size of a record with an n-byte payload.
func Size(n int) int { return HeaderSize + Pad(n) }

// FramesSize is the encoded size of frames as a multipart payload.
func FramesSize(frames [][]byte) int {
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

// DecodeFrames splits a multipart payload into its frames, which alias b.
// It counts them first, so the frame list is one allocation of its exact
// size (appending grew it once per doubling).
func DecodeFrames(b []byte) ([][]byte, error) {
	n := 0
	for rest := b; len(rest) > 0; n++ {
		size, k := binary.Uvarint(rest)
		if k <= 0 || size > uint64(len(rest)-k) {
			return nil, ErrFraming
		}
		rest = rest[k+int(size):]
	}
	if n == 0 {
		return nil, nil
	}
	frames := make([][]byte, 0, n)
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, ErrFraming
		}
		b = b[k:]
		frames = append(frames, b[:n:n])
		b = b[n:]
	}
	return frames, nil
}

// Append encodes one record at the end of dst and returns the extended
// slice. Exactly one of payload and frames is used: frames when h.Flags has
// FlagMultipart.
func Append(dst []byte, h Header, payload []byte, frames [][]byte) []byte {
	n := len(payload)
	if h.Flags&FlagMultipart != 0 {
		n = FramesSize(frames)
	}
	size := Size(n)
	start := len(dst)
	if cap(dst)-start < size {
		grown := make([]byte, start, 2*cap(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+size]
	r := dst[start:]
	binary.LittleEndian.PutUint32(r[0:4], uint32(n))
	binary.LittleEndian.PutUint32(r[8:12], h.Flags)
	binary.LittleEndian.PutUint32(r[12:16], h.Lag)
	binary.LittleEndian.PutUint64(r[16:24], h.Offset)
	binary.LittleEndian.PutUint64(r[24:32], uint64(h.Time))
	body := r[HeaderSize:]
	if h.Flags&FlagMultipart != 0 {
		p := 0
		for _, f := range frames {
			p += binary.PutUvarint(body[p:], uint64(len(f)))
			p += copy(body[p:], f)
		}
	} else {
		copy(body, payload)
	}
	clear(body[n:])
	binary.LittleEndian.PutUint32(r[4:8], checksum(r))
	return dst
}

// AppendGap encodes a gap record of exactly size bytes on disk (a multiple
// of Align, at least MinGapSize) standing for offsets [off, next). A gap
// record is written by a repair after it has synced what precedes it, so its
// lag is zero.
func AppendGap(dst []byte, off, next uint64, ts int64, size int) []byte {
	payload := make([]byte, size-HeaderSize)
	binary.LittleEndian.PutUint64(payload, next)
	return Append(dst, Header{Offset: off, Time: ts, Flags: FlagGap}, payload, nil)
}

// checksum is the CRC32C of a whole encoded record except its CRC field:
// the length word, then everything after the CRC (flags, lag, offset,
// timestamp, payload, padding).
func checksum(r []byte) uint32 {
	return crc32.Update(crc32.Checksum(r[0:4], castagnoli), castagnoli, r[8:])
}

// Raw is a decoded record whose payload aliases the decoder's input.
type Raw struct {
	Header
	Payload []byte
}

// IsGap reports whether r is a gap record.
func (r Raw) IsGap() bool { return r.Flags&FlagGap != 0 }

// Following returns the offset of the record after r: r's plus one, or for a
// gap record the offset it skips to.
func (r Raw) Following() uint64 {
	if r.IsGap() {
		return binary.LittleEndian.Uint64(r.Payload)
	}
	return r.Offset + 1
}

// SyncedEnd is the synced end r claims: every offset below it was fsynced
// before r was encoded.
func (r Raw) SyncedEnd() uint64 { return r.Offset - uint64(r.Lag) }

// Peek returns the payload length and on-disk size of the record whose
// header starts b, checking the length bound before anything is allocated.
func Peek(b []byte) (n int, size int, err error) {
	if len(b) < HeaderSize {
		return 0, 0, ErrShort
	}
	l := binary.LittleEndian.Uint32(b[0:4])
	if l > MaxLen {
		return 0, 0, ErrLength
	}
	return int(l), Size(int(l)), nil
}

// Decode decodes and verifies the record at the start of b, which must carry
// offset want. It returns the record and its on-disk size. ErrShort means b
// ends inside the record.
func Decode(b []byte, want uint64) (Raw, int, error) {
	n, size, err := Peek(b)
	if err != nil {
		return Raw{}, 0, err
	}
	flags := binary.LittleEndian.Uint32(b[8:12])
	if flags&^FlagsKnown != 0 || flags == FlagMultipart|FlagGap {
		return Raw{}, 0, ErrFlags
	}
	if len(b) < size {
		return Raw{}, 0, ErrShort
	}
	if checksum(b[:size]) != binary.LittleEndian.Uint32(b[4:8]) {
		return Raw{}, 0, ErrCRC
	}
	h := Header{
		Offset: binary.LittleEndian.Uint64(b[16:24]),
		Lag:    binary.LittleEndian.Uint32(b[12:16]),
		Time:   int64(binary.LittleEndian.Uint64(b[24:32])),
		Flags:  flags,
	}
	if h.Offset != want || uint64(h.Lag) > h.Offset {
		return Raw{}, 0, ErrOffset
	}
	rec := Raw{Header: h, Payload: b[HeaderSize : HeaderSize+n : HeaderSize+n]}
	switch flags {
	case FlagMultipart:
		if err := checkFrames(rec.Payload); err != nil {
			return Raw{}, 0, err
		}
	case FlagGap:
		if n < 8 || binary.LittleEndian.Uint64(rec.Payload) < h.Offset {
			return Raw{}, 0, ErrFraming
		}
	}
	return rec, size, nil
}

// checkFrames validates multipart framing without allocating.
func checkFrames(b []byte) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return ErrFraming
		}
		b = b[k+int(n):]
	}
	return nil
}

// Plausible is a cheap filter used when searching for records after damage:
// reserved bits clear, a length within bounds and an offset within [lo, hi].
// An all-zero header (unwritten, preallocated space) is never plausible.
func Plausible(b []byte, lo, hi uint64) bool {
	if len(b) < HeaderSize {
		return false
	}
	if binary.LittleEndian.Uint64(b[0:8])|binary.LittleEndian.Uint64(b[8:16])|
		binary.LittleEndian.Uint64(b[16:24])|binary.LittleEndian.Uint64(b[24:32]) == 0 {
		// The all-zero record (empty payload, offset 0, time 0) has a
		// non-zero CRC (checked in the tests), so an all-zero header is
		// unwritten space, never a record.
		return false
	}
	if binary.LittleEndian.Uint32(b[8:12])&^FlagsKnown != 0 {
		return false
	}
	off := binary.LittleEndian.Uint64(b[16:24])
	return off >= lo && off <= hi && binary.LittleEndian.Uint32(b[0:4]) <= MaxLen
}

// OffsetField returns the offset field of a header without verifying it.
func OffsetField(b []byte) uint64 { return binary.LittleEndian.Uint64(b[16:24]) }
