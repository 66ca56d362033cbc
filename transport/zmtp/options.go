package zmtp

// Default buffer sizes of a Conn.
const (
	DefaultReadBufferSize  = 64 << 10
	DefaultWriteBufferSize = 64 << 10
	minBufferSize          = 4 << 10
)

// Options tune a Conn beyond transport.Config.
type Options struct {
	// Codec, when set, transforms message parts (never commands) on the
	// wire. zstd+tcp uses it for per-part compression.
	Codec PartCodec
	// NoHeartbeat stops the Conn from sending ZMTP PINGs even when the
	// Config asks for heartbeats (quic does liveness on its own stream).
	// PINGs received are still answered and the peer's TTL still honoured.
	NoHeartbeat bool
	// ReadBufferSize and WriteBufferSize size the Conn's buffers; zero
	// means 64 KiB. Values below 4 KiB are raised to 4 KiB.
	ReadBufferSize, WriteBufferSize int
}

// PartCodec transforms message parts on the wire, per connection. A Conn
// calls AppendEncode from its writing goroutine and Decode from its reading
// goroutine, so the two may run concurrently.
type PartCodec interface {
	// Hello returns single-part messages to send once, right after the
	// handshake and before any other message (e.g. a dictionary); nil for
	// none. The parts are sent as they are, not through AppendEncode.
	Hello() [][]byte
	// AppendEncode appends the wire form of one plaintext part to dst.
	AppendEncode(dst, part []byte) []byte
	// Decode returns the plaintext of one wire part. budget is how many
	// plaintext bytes the message may still grow by (max message size; <0
	// = unlimited): exceeding it gives an error matching
	// transport.ErrTooLarge BEFORE decoding. deliver=false means the part
	// was codec control (a dictionary shipment) and the whole (single-part)
	// message is not delivered. The Conn hands over ownership of part:
	// plain may alias it.
	Decode(part []byte, budget int64) (plain []byte, deliver bool, err error)
}

func (o Options) readBufferSize() int  { return bufferSize(o.ReadBufferSize, DefaultReadBufferSize) }
func (o Options) writeBufferSize() int { return bufferSize(o.WriteBufferSize, DefaultWriteBufferSize) }

func bufferSize(n, def int) int {
	switch {
	case n <= 0:
		return def
	case n < minBufferSize:
		return minBufferSize
	}
	return n
}
