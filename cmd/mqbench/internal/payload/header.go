// Package payload defines the header mqbench puts at the front of every
// message: a sequence number and timestamps that let the receiver count
// lost and reordered messages and measure latency, and a kind that marks
// warmup, end-of-phase and readiness messages.
//
// Layout (little endian, 28 bytes; the rest of the message is filler):
//
//	offset size field
//	     0    8 seq       per-stream sequence number (End: messages sent)
//	     8    8 intended  intended send time, Unix ns (open loop: the schedule)
//	    16    8 sent      actual send time, Unix ns
//	    24    2 stream    the sending client (echoes: the echoing subscriber)
//	    26    1 kind      Data, Warmup, End, Hello, Ready
//	    27    1 phase     index of the message size being measured
package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderSize is the smallest message mqbench sends.
const HeaderSize = 28

// Errors from Parse, matched with errors.Is.
var (
	// ErrShort means the message is shorter than HeaderSize.
	ErrShort = errors.New("brook: mqbench: payload shorter than its header")
	// ErrKind means the kind byte is not one mqbench writes.
	ErrKind = errors.New("brook: mqbench: payload has an unknown kind")
)

// Kind says what a message is for.
type Kind uint8

// Kinds.
const (
	// Data is a measured message.
	Data Kind = iota
	// Warmup is sent before the measured messages and discarded.
	Warmup
	// End closes a stream's phase; its Seq is the number of Data
	// messages the stream sent in the phase.
	End
	// Hello is what a publisher sends until every subscriber is there.
	Hello
	// Ready is a subscriber's answer to its first Hello.
	Ready
	kinds
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Warmup:
		return "warmup"
	case End:
		return "end"
	case Hello:
		return "hello"
	case Ready:
		return "ready"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Header is the decoded front of a message.
type Header struct {
	Seq      uint64
	Intended int64
	Sent     int64
	Stream   uint16
	Kind     Kind
	Phase    uint8
}

// Put writes h into the first HeaderSize bytes of b, which must be at
// least that long.
func (h *Header) Put(b []byte) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint64(b[0:], h.Seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.Intended))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.Sent))
	binary.LittleEndian.PutUint16(b[24:], h.Stream)
	b[26] = byte(h.Kind)
	b[27] = h.Phase
}

// Parse decodes the header at the front of b.
func Parse(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	h := Header{
		Seq:      binary.LittleEndian.Uint64(b[0:]),
		Intended: int64(binary.LittleEndian.Uint64(b[8:])),
		Sent:     int64(binary.LittleEndian.Uint64(b[16:])),
		Stream:   binary.LittleEndian.Uint16(b[24:]),
		Kind:     Kind(b[26]),
		Phase:    b[27],
	}
	if h.Kind >= kinds {
		return Header{}, fmt.Errorf("%w: %d", ErrKind, b[26])
	}
	return h, nil
}

// SetStream rewrites the stream field of an encoded header in place (an
// echoing subscriber marks its echoes with its own index).
func SetStream(b []byte, stream uint16) {
	binary.LittleEndian.PutUint16(b[24:], stream)
}
