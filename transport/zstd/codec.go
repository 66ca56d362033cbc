package zstd

import (
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// codec is the compression state one Transport (one socket) shares between
// all its connections: one encoder, one decoder for frames without a
// dictionary, and the cache of recently encoded parts. Encoder and decoder
// are safe for concurrent EncodeAll/DecodeAll calls and reuse their state.
type codec struct {
	enc         *zstd.Encoder
	dec         *zstd.Decoder
	dict        []byte // the local dictionary shipped to every peer, or nil
	threshold   int
	maxPartSize int64
	cache       encodeCache
	// encodes counts EncodeAll calls; tests read it to check that a part
	// sent to many peers is compressed once.
	encodes atomic.Int64
}

// newCodec builds the shared codec of a validated config.
func newCodec(c config) (*codec, error) {
	eopts := []zstd.EOption{
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.level)),
		// A single-segment frame header always carries
		// Frame_Content_Size; without it klauspost leaves the field out
		// of frames for inputs shorter than 256 bytes.
		zstd.WithSingleSegment(true),
		zstd.WithEncoderCRC(false),
	}
	threshold := Threshold
	if c.dict != nil {
		eopts = append(eopts, zstd.WithEncoderDict(c.dict))
		threshold = DictThreshold
	}
	enc, err := zstd.NewWriter(nil, eopts...)
	if err != nil {
		return nil, err
	}
	dec, err := newDecoder(c.maxPartSize, 0, nil)
	if err != nil {
		return nil, err
	}
	return &codec{enc: enc, dec: dec, dict: c.dict, threshold: threshold, maxPartSize: c.maxPartSize}, nil
}

// newDecoder returns a decoder for DecodeAll that never writes past the
// capacity of the destination and refuses frames declaring more than
// maxPartSize. concurrency 0 means one per CPU.
func newDecoder(maxPartSize int64, concurrency int, dict []byte) (*zstd.Decoder, error) {
	opts := []zstd.DOption{
		zstd.WithDecoderConcurrency(concurrency),
		zstd.WithDecoderMaxMemory(uint64(maxPartSize)),
		zstd.WithDecodeAllCapLimit(true),
	}
	if dict != nil {
		opts = append(opts, zstd.WithDecoderDicts(dict))
	}
	return zstd.NewReader(nil, opts...)
}

// close releases the encoder and decoder.
func (c *codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// appendEncode appends the wire form of part to dst: uncompressed below the
// threshold or when compression does not save more than the sentinel,
// otherwise one Zstandard frame. The wire form of a part seen recently
// (same backing memory, same length, same bytes) is taken from the cache.
func (c *codec) appendEncode(dst, part []byte) []byte {
	if len(part) < c.threshold {
		return appendPlain(dst, part)
	}
	if out, ok := c.cache.appendCached(dst, part); ok {
		return out
	}
	start := len(dst)
	c.encodes.Add(1)
	dst = c.enc.EncodeAll(part, dst)
	if len(dst)-start >= len(part)-sentinelLen {
		dst = appendPlain(dst[:start], part)
	}
	c.cache.store(part, dst[start:])
	return dst
}

func appendPlain(dst, part []byte) []byte {
	dst = append(dst, 0, 0, 0, 0)
	return append(dst, part...)
}
