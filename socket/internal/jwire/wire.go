package jwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Property is the READY property that announces the profile.
const Property = "X-Brook-Journal"

// Version is the profile version this package speaks.
const Version = 1

// Command names.
const (
	CmdData   = "JDATA"
	CmdAck    = "JACK"
	CmdDone   = "JDONE"
	CmdNack   = "JNACK"
	CmdSub    = "JSUB"
	CmdStart  = "JSTART"
	CmdStream = "JSTREAM"
	CmdRun    = "JRUN"
	CmdSkip   = "JSKIP"
	CmdRevoke = "JREVOKE"
)

// MaxRanges bounds the ranges of one JACK or JNACK, keeping every command
// far below transport.MaxCommandSize (a range takes at most 20 bytes).
const MaxRanges = 3000

// ErrMalformed means a property or command does not decode exactly.
var ErrMalformed = errors.New("brook: malformed journal profile data")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Flags of the X-Brook-Journal property.
const (
	FlagJournal   = 1 << 0 // the sender has a journal; id and epoch follow
	FlagPublisher = 1 << 1 // the sender publishes a stream (PUB, XPUB)
	FlagRuns      = 1 << 2 // the sender subscribes and reads JRUN
	knownFlags    = FlagJournal | FlagPublisher | FlagRuns
)

// Hello is what a socket announces in X-Brook-Journal.
type Hello struct {
	Flags   byte
	Journal [16]byte // when Flags has FlagJournal
	Epoch   uint64   // when Flags has FlagJournal
}

// HasJournal reports whether the announcing socket sends from a journal.
func (h Hello) HasJournal() bool { return h.Flags&FlagJournal != 0 }

// Publisher reports whether the announcing socket publishes a stream.
func (h Hello) Publisher() bool { return h.Flags&FlagPublisher != 0 }

// Runs reports whether the announcing socket reads a stream's JRUN.
func (h Hello) Runs() bool { return h.Flags&FlagRuns != 0 }

// AppendHello encodes h as the property's value.
func AppendHello(dst []byte, h Hello) []byte {
	dst = append(dst, Version, h.Flags)
	if h.HasJournal() {
		dst = append(dst, h.Journal[:]...)
		dst = binary.BigEndian.AppendUint64(dst, h.Epoch)
	}
	return dst
}

// ParseHello decodes the property's value. Extra trailing bytes are
// allowed (later versions may add fields).
func ParseHello(b []byte) (Hello, error) {
	if len(b) < 2 {
		return Hello{}, malformed("X-Brook-Journal of %d bytes", len(b))
	}
	if b[0] != Version {
		return Hello{}, malformed("X-Brook-Journal version %d, want %d", b[0], Version)
	}
	h := Hello{Flags: b[1]}
	if h.Flags&^knownFlags != 0 {
		return Hello{}, malformed("X-Brook-Journal reserved flags %#x", h.Flags)
	}
	if !h.HasJournal() {
		if h.Publisher() {
			return Hello{}, malformed("X-Brook-Journal publisher without a journal")
		}
		return h, nil
	}
	if len(b) < 2+16+8 {
		return Hello{}, malformed("X-Brook-Journal of %d bytes with a journal", len(b))
	}
	copy(h.Journal[:], b[2:18])
	h.Epoch = binary.BigEndian.Uint64(b[18:26])
	return h, nil
}

// Data is the content of a JDATA command.
type Data struct {
	Offset uint64
	Epoch  uint64
	Floor  uint64 // <= Offset
	Count  uint32 // deliveries so far, including this one (>= 1)
	Time   int64  // unix ns
}

// MaxData is the largest encoded JDATA.
const MaxData = 4*binary.MaxVarintLen64 + 8

// AppendData encodes d.
func AppendData(dst []byte, d Data) []byte {
	dst = binary.AppendUvarint(dst, d.Offset)
	dst = binary.AppendUvarint(dst, d.Epoch)
	dst = binary.AppendUvarint(dst, d.Offset-d.Floor)
	dst = binary.AppendUvarint(dst, uint64(d.Count))
	return binary.BigEndian.AppendUint64(dst, uint64(d.Time))
}

// ParseData decodes a JDATA command.
func ParseData(b []byte) (Data, error) {
	var d Data
	r := reader{b: b}
	d.Offset = r.uvarint()
	d.Epoch = r.uvarint()
	delta := r.uvarint()
	count := r.uvarint()
	d.Time = int64(r.fixed64())
	if err := r.end("JDATA"); err != nil {
		return Data{}, err
	}
	if delta > d.Offset {
		return Data{}, malformed("JDATA floor %d below zero (offset %d)", delta, d.Offset)
	}
	if count == 0 || count > 1<<32-1 {
		return Data{}, malformed("JDATA delivery count %d", count)
	}
	d.Floor, d.Count = d.Offset-delta, uint32(count)
	return d, nil
}

// Stream is the content of a JSTREAM command.
type Stream struct {
	Offset uint64
	Epoch  uint64
	Skip   uint64 // <= Offset
	Time   int64  // unix ns
}

// MaxStream is the largest encoded JSTREAM.
const MaxStream = 3*binary.MaxVarintLen64 + 8

// AppendStream encodes s.
func AppendStream(dst []byte, s Stream) []byte {
	dst = binary.AppendUvarint(dst, s.Offset)
	dst = binary.AppendUvarint(dst, s.Epoch)
	dst = binary.AppendUvarint(dst, s.Skip)
	return binary.BigEndian.AppendUint64(dst, uint64(s.Time))
}

// ParseStream decodes a JSTREAM command.
func ParseStream(b []byte) (Stream, error) {
	r := reader{b: b}
	var s Stream
	s.Offset, s.Epoch, s.Skip = r.uvarint(), r.uvarint(), r.uvarint()
	s.Time = int64(r.fixed64())
	if err := r.end("JSTREAM"); err != nil {
		return Stream{}, err
	}
	if s.Skip > s.Offset {
		return Stream{}, malformed("JSTREAM skip %d beyond offset %d", s.Skip, s.Offset)
	}
	return s, nil
}

// MaxRun is the most messages one JRUN describes.
const MaxRun = 1024

// AppendRun encodes a JRUN: the stream records of up to MaxRun messages
// sent one after the other, all of one epoch, offsets increasing; each
// one's Skip counts the offsets between it and the one before it (for the
// first: before it) that hold nothing for the subscriber, so
// ss[i].Offset = ss[i-1].Offset + 1 + ss[i].Skip.
func AppendRun(dst []byte, ss []Stream) []byte {
	dst = binary.AppendUvarint(dst, ss[0].Epoch)
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	dst = binary.AppendUvarint(dst, ss[0].Offset)
	dst = binary.AppendUvarint(dst, ss[0].Skip)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ss[0].Time))
	for i := 1; i < len(ss); i++ {
		dst = binary.AppendUvarint(dst, ss[i].Skip)
		dst = binary.AppendVarint(dst, ss[i].Time-ss[i-1].Time)
	}
	return dst
}

// ParseRun decodes a JRUN, appending its records to dst.
func ParseRun(dst []Stream, b []byte) ([]Stream, error) {
	r := reader{b: b}
	epoch, n := r.uvarint(), r.uvarint()
	first := Stream{Epoch: epoch, Offset: r.uvarint(), Skip: r.uvarint(), Time: int64(r.fixed64())}
	switch {
	case r.err != nil:
		return dst, r.err
	case n == 0 || n > MaxRun:
		return dst, malformed("JRUN of %d messages (1..%d)", n, MaxRun)
	case first.Skip > first.Offset:
		return dst, malformed("JRUN skip %d beyond offset %d", first.Skip, first.Offset)
	}
	at := len(dst)
	dst = append(dst, first)
	prev := first
	// The records from a local slice, not through the reader: a store
	// of r.b in a call the compiler does not inline takes a write barrier
	// while the GC runs, two per message.
	rest := r.b
	for i := uint64(1); i < n; i++ {
		skip, k := canonicalUvarint(rest)
		if k <= 0 {
			return dst[:at], malformed("bad varint")
		}
		rest = rest[k:]
		zz, k := canonicalUvarint(rest)
		if k <= 0 {
			return dst[:at], malformed("bad varint")
		}
		rest = rest[k:]
		delta := int64(zz >> 1)
		if zz&1 != 0 {
			delta = ^delta
		}
		off := prev.Offset + 1 + skip
		if off <= prev.Offset {
			return dst[:at], malformed("JRUN offsets overflow")
		}
		prev = Stream{Offset: off, Epoch: epoch, Skip: skip, Time: prev.Time + delta}
		dst = append(dst, prev)
	}
	r.b = rest
	if err := r.end("JRUN"); err != nil {
		return dst[:at], err
	}
	return dst, nil
}

// Range is the half-open offset range [Lo, Hi).
type Range struct{ Lo, Hi uint64 }

// Len is the number of offsets in r.
func (r Range) Len() uint64 { return r.Hi - r.Lo }

// AppendRanges encodes sorted, disjoint, non-empty ranges (at most
// MaxRanges: the caller splits longer lists into several commands).
func AppendRanges(dst []byte, rs []Range) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(rs)))
	var prev uint64
	for _, r := range rs {
		dst = binary.AppendUvarint(dst, r.Lo-prev)
		dst = binary.AppendUvarint(dst, r.Hi-r.Lo)
		prev = r.Hi
	}
	return dst
}

// ranges decodes what AppendRanges wrote, checking order and bounds.
func (r *reader) ranges(what string) []Range {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > MaxRanges {
		r.fail(malformed("%s with %d ranges (at most %d)", what, n, MaxRanges))
		return nil
	}
	out := make([]Range, 0, n)
	var prev uint64
	for i := uint64(0); i < n; i++ {
		gap, length := r.uvarint(), r.uvarint()
		if r.err != nil {
			return nil
		}
		if i > 0 && gap == 0 {
			r.fail(malformed("%s range %d touches the previous one", what, i))
			return nil
		}
		lo := prev + gap
		hi := lo + length
		if lo < prev || length == 0 || hi < lo {
			r.fail(malformed("%s range %d out of order or empty", what, i))
			return nil
		}
		out = append(out, Range{lo, hi})
		prev = hi
	}
	return out
}

// ParseRanges decodes what AppendRanges wrote (a JSKIP's data), exactly.
func ParseRanges(b []byte) ([]Range, error) {
	r := reader{b: b}
	rs := r.ranges("ranges")
	return rs, r.end("ranges")
}

// AppendAck encodes a JACK; seq > 0 asks the sender to confirm with a
// JDONE carrying seq once the acknowledgements are durable on its side.
func AppendAck(dst []byte, seq uint64, rs []Range) []byte {
	dst = binary.AppendUvarint(dst, seq)
	return AppendRanges(dst, rs)
}

// ParseAck decodes a JACK.
func ParseAck(b []byte) (seq uint64, rs []Range, err error) {
	r := reader{b: b}
	seq = r.uvarint()
	rs = r.ranges("JACK")
	return seq, rs, r.end("JACK")
}

// AppendDone encodes a JDONE.
func AppendDone(dst []byte, seq uint64) []byte { return binary.AppendUvarint(dst, seq) }

// ParseDone decodes a JDONE.
func ParseDone(b []byte) (uint64, error) {
	r := reader{b: b}
	seq := r.uvarint()
	if err := r.end("JDONE"); err != nil {
		return 0, err
	}
	if seq == 0 {
		return 0, malformed("JDONE of sequence 0")
	}
	return seq, nil
}

// AppendNack encodes a JNACK asking for redelivery after delay.
func AppendNack(dst []byte, delay time.Duration, rs []Range) []byte {
	dst = binary.AppendUvarint(dst, uint64(max(delay, 0)/time.Millisecond))
	return AppendRanges(dst, rs)
}

// ParseNack decodes a JNACK.
func ParseNack(b []byte) (time.Duration, []Range, error) {
	r := reader{b: b}
	ms := r.uvarint()
	rs := r.ranges("JNACK")
	if err := r.end("JNACK"); err != nil {
		return 0, nil, err
	}
	if ms > uint64(365*24*time.Hour/time.Millisecond) {
		return 0, nil, malformed("JNACK delay of %d ms", ms)
	}
	return time.Duration(ms) * time.Millisecond, rs, nil
}

// Start modes of a JSUB.
const (
	StartLive   = 0
	StartOldest = 1
	StartOffset = 2
	StartTime   = 3
)

// Sub is the content of a JSUB command.
type Sub struct {
	Mode  byte
	Value uint64 // the offset (StartOffset) or unix ns (StartTime)
}

// AppendSub encodes s.
func AppendSub(dst []byte, s Sub) []byte {
	dst = binary.AppendUvarint(dst, uint64(s.Mode))
	return binary.AppendUvarint(dst, s.Value)
}

// ParseSub decodes a JSUB.
func ParseSub(b []byte) (Sub, error) {
	r := reader{b: b}
	mode, v := r.uvarint(), r.uvarint()
	if err := r.end("JSUB"); err != nil {
		return Sub{}, err
	}
	if mode > StartTime {
		return Sub{}, malformed("JSUB mode %d", mode)
	}
	if (mode == StartLive || mode == StartOldest) && v != 0 {
		return Sub{}, malformed("JSUB mode %d with value %d", mode, v)
	}
	return Sub{Mode: byte(mode), Value: v}, nil
}

// Flags of a JSTART.
const (
	StartBeyondEnd = 1 << 0 // the offset asked for was past the journal's end
)

// StartInfo is the content of a JSTART command.
type StartInfo struct {
	First uint64 // the first offset that may come
	Gap   uint64 // offsets asked for that are gone
	Flags byte
}

// AppendStart encodes s.
func AppendStart(dst []byte, s StartInfo) []byte {
	dst = binary.AppendUvarint(dst, s.First)
	dst = binary.AppendUvarint(dst, s.Gap)
	return append(dst, s.Flags)
}

// ParseStart decodes a JSTART.
func ParseStart(b []byte) (StartInfo, error) {
	r := reader{b: b}
	var s StartInfo
	s.First, s.Gap = r.uvarint(), r.uvarint()
	s.Flags = r.byte1()
	if err := r.end("JSTART"); err != nil {
		return StartInfo{}, err
	}
	if s.Flags&^StartBeyondEnd != 0 {
		return StartInfo{}, malformed("JSTART reserved flags %#x", s.Flags)
	}
	return s, nil
}

// reader decodes fields in order; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := canonicalUvarint(r.b)
	if n <= 0 {
		r.fail(malformed("bad varint"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// canonicalUvarint decodes a uvarint at the start of b and returns it
// and its length, or a length <= 0 for an overflow, a value cut short or
// one padded with zero groups (one value has one encoding).
func canonicalUvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	v, n := binary.Uvarint(b)
	if n <= 0 || (n > 1 && b[n-1] == 0) {
		return 0, -1
	}
	return v, n
}

func (r *reader) fixed64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail(malformed("short field"))
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(malformed("short field"))
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// end reports the first error, or trailing bytes.
func (r *reader) end(what string) error {
	if r.err != nil {
		return fmt.Errorf("%s: %w", what, r.err)
	}
	if len(r.b) != 0 {
		return malformed("%s with %d trailing bytes", what, len(r.b))
	}
	return nil
}
