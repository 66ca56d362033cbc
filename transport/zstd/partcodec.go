package zstd

import (
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/brookmq/brook/transport"
)

// partCodec is the zmtp.PartCodec of one connection. Encoding goes through
// the Transport's shared codec; decoding keeps the per-connection state:
// whether the peer shipped a dictionary, and the decoder that uses it.
// AppendEncode (writer goroutine) and Decode (reader goroutine) share
// nothing mutable, so they may run concurrently.
type partCodec struct {
	shared *codec
	// dictDec decodes the peer's frames once it has shipped a dictionary;
	// nil before. Only the reading goroutine touches it.
	dictDec *zstd.Decoder
	gotDict bool
}

func newPartCodec(shared *codec) *partCodec {
	return &partCodec{shared: shared}
}

// Hello returns the dictionary shipment, if the Transport has a
// dictionary: it is sent once, before any part compressed with it.
func (p *partCodec) Hello() [][]byte {
	if p.shared.dict == nil {
		return nil
	}
	return [][]byte{p.shared.dict}
}

// AppendEncode appends the wire form of one plaintext part to dst.
func (p *partCodec) AppendEncode(dst, part []byte) []byte {
	return p.shared.appendEncode(dst, part)
}

// Decode returns the plaintext of one wire part. budget is what the engine
// computed from the raised limit (see wireSlack); <0 means no limit but the
// Transport's maximum part size. deliver is false for a dictionary
// shipment.
func (p *partCodec) Decode(part []byte, budget int64) ([]byte, bool, error) {
	return p.decode(part, plainBudget(budget))
}

// decode is Decode with the socket's own budget: how many plaintext bytes
// the message may still grow by.
func (p *partCodec) decode(part []byte, budget int64) ([]byte, bool, error) {
	if len(part) < sentinelLen {
		return nil, false, fmt.Errorf("%w: part of %d bytes", ErrUnknownSentinel, len(part))
	}
	switch s := sentinelOf(part); s {
	case sentinelPlain:
		plain := part[sentinelLen:]
		if budget >= 0 && int64(len(plain)) > budget {
			return nil, false, fmt.Errorf("%w: part of %d bytes, %d left", transport.ErrTooLarge, len(plain), budget)
		}
		return plain, true, nil
	case sentinelFrame:
		plain, err := p.decodeFrame(part, budget)
		return plain, err == nil, err
	case sentinelDict:
		return nil, false, p.installDictionary(part)
	default:
		return nil, false, fmt.Errorf("%w: % x", ErrUnknownSentinel, part[:sentinelLen])
	}
}

// decodeFrame decodes one compressed part: it reads Frame_Content_Size,
// checks it against the budget and the maximum part size before anything is
// allocated or decoded, then decodes into a buffer of exactly that size
// (the decoder refuses to write past it).
func (p *partCodec) decodeFrame(part []byte, budget int64) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(part); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadFrame, err)
	}
	if !h.HasFCS {
		return nil, ErrNoContentSize
	}
	size := h.FrameContentSize
	if budget >= 0 && size > uint64(budget) {
		return nil, fmt.Errorf("%w: frame declares %d bytes, %d left", transport.ErrTooLarge, size, budget)
	}
	if size > uint64(p.shared.maxPartSize) {
		return nil, fmt.Errorf("%w: frame declares %d bytes, more than the %d-byte part limit", transport.ErrTooLarge, size, p.shared.maxPartSize)
	}
	dec := p.shared.dec
	if p.dictDec != nil {
		dec = p.dictDec
	}
	out, err := dec.DecodeAll(part, make([]byte, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if uint64(len(out)) != size {
		return nil, fmt.Errorf("%w: decoded %d bytes, frame declared %d", ErrBadFrame, len(out), size)
	}
	return out, nil
}

// installDictionary loads the peer's dictionary shipment: at most one per
// connection, at most MaxDictSize bytes.
func (p *partCodec) installDictionary(part []byte) error {
	if p.gotDict {
		return ErrSecondDictionary
	}
	p.gotDict = true
	if len(part) > MaxDictSize {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrBadDictionary, len(part), MaxDictSize)
	}
	dec, err := newDecoder(p.shared.maxPartSize, 1, part)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadDictionary, err)
	}
	p.dictDec = dec
	return nil
}
