// Package transport defines the message-oriented plug-in point of brook: a
// Transport dials and listens on endpoints and yields Conns that carry whole
// multipart messages (Msg), never bytes. Stream transports (tcp, ipc,
// zstd+tcp, quic) speak ZMTP underneath through package transport/zmtp;
// inproc hands Msg values from goroutine to goroutine without encoding.
//
// The package imports nothing else of brook (but its own internal
// buffer pool).
package transport

// Msg is one multipart message: its frames in order. A Msg is delivered
// whole or not at all. Whoever sends a Msg hands over ownership of its
// frames; whoever receives one owns them, and may give their memory back
// for reuse with Release once done with them.
type Msg struct {
	// Frames are the message parts; a message has at least one frame,
	// and frames may be empty.
	Frames [][]byte
}

// NewMsg returns a message made of the given frames (not copied).
func NewMsg(frames ...[]byte) Msg { return Msg{Frames: frames} }

// Size is the sum of the frame lengths in bytes.
func (m Msg) Size() int {
	n := 0
	for _, f := range m.Frames {
		n += len(f)
	}
	return n
}

// Clone returns a deep copy of m: frames and their bytes.
func (m Msg) Clone() Msg {
	if m.Frames == nil {
		return Msg{}
	}
	buf := make([]byte, m.Size())
	frames := make([][]byte, len(m.Frames))
	off := 0
	for i, f := range m.Frames {
		n := copy(buf[off:], f)
		frames[i] = buf[off : off+n : off+n]
		off += n
	}
	return Msg{Frames: frames}
}
