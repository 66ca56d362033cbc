package zstd

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// jsonLike returns n bytes of compressible JSON-like text.
func jsonLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","event":"click","price":%d.%02d,"tags":["a","b"]},`,
			r.IntN(100000), r.IntN(50), r.IntN(1000), r.IntN(100))
	}
	return []byte(b.String()[:n])
}

// noise returns n incompressible bytes.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// testDict returns a small Zstandard dictionary trained on JSON-like text:
// testdata/json.dict, made by zstd.BuildDict (ID 0x4242, offsets 1, 4, 8)
// from 64 jsonLike(300, i) samples and jsonLike(4000, 99) as history.
func testDict(t testing.TB) []byte {
	t.Helper()
	d, err := os.ReadFile("testdata/json.dict")
	require.NoError(t, err)
	return d
}

func newTestCodec(t testing.TB, opts ...Option) *codec {
	t.Helper()
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	require.NoError(t, c.err)
	cd, err := newCodec(c)
	require.NoError(t, err)
	t.Cleanup(cd.close)
	return cd
}

func TestRoundTripAroundThresholds(t *testing.T) {
	dict := testDict(t)
	cases := []struct {
		name      string
		opts      []Option
		sizes     []int
		threshold int
	}{
		{"no dictionary", nil, []int{0, 1, 3, 4, 5, 63, 64, 65, 511, 512, 513, 4096, 70000}, Threshold},
		{"dictionary", []Option{WithDictionary(dict)}, []int{0, 1, 4, 63, 64, 65, 255, 256, 511, 512, 513, 4096}, DictThreshold},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sender := newTestCodec(t, tc.opts...)
			receiver := newPartCodec(newTestCodec(t))
			// The dictionary shipment goes first and is not delivered.
			for _, hello := range newPartCodec(sender).Hello() {
				_, deliver, err := receiver.decode(hello, -1)
				require.NoError(t, err)
				assert.False(t, deliver)
			}
			for _, size := range tc.sizes {
				for kind, part := range map[string][]byte{"compressible": jsonLike(size, uint64(size)), "incompressible": noise(size, uint64(size))} {
					wire := sender.appendEncode(nil, part)
					require.GreaterOrEqual(t, len(wire), sentinelLen)
					s := sentinelOf(wire)
					switch {
					case size < tc.threshold:
						assert.Equal(t, sentinelPlain, s, "%s %d bytes must go uncompressed", kind, size)
					case kind == "incompressible":
						assert.Equal(t, sentinelPlain, s, "incompressible %d bytes must go uncompressed", size)
					default:
						assert.Equal(t, sentinelFrame, s, "compressible %d bytes must be compressed", size)
						assert.Less(t, len(wire), len(part)-sentinelLen)
						var h zstd.Header
						require.NoError(t, h.Decode(wire))
						assert.True(t, h.HasFCS, "frame of %d bytes must carry Frame_Content_Size", size)
						assert.Equal(t, uint64(size), h.FrameContentSize)
					}
					plain, deliver, err := receiver.decode(wire, -1)
					require.NoError(t, err, "%s %d", kind, size)
					assert.True(t, deliver)
					assert.Equal(t, len(part), len(plain))
					assert.Equal(t, part, append([]byte{}, plain...), "%s %d", kind, size)
				}
			}
		})
	}
}

// TestEveryFrameCarriesContentSize checks the header of frames of every size
// class of the Frame_Content_Size field (1, 2, 4 bytes, and the
// single-segment 1-byte form), with and without a dictionary.
func TestEveryFrameCarriesContentSize(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithDictionary(testDict(t))}} {
		c := newTestCodec(t, opts...)
		for _, size := range []int{64, 100, 255, 256, 257, 65535, 65536 + 255, 65536 + 256, 70000} {
			if size < c.threshold {
				continue
			}
			wire := c.appendEncode(nil, jsonLike(size, 1))
			require.Equal(t, sentinelFrame, sentinelOf(wire), "size %d", size)
			var h zstd.Header
			require.NoError(t, h.Decode(wire))
			assert.True(t, h.HasFCS, "size %d", size)
			assert.Equal(t, uint64(size), h.FrameContentSize)
		}
	}
}

func TestDecodeBudget(t *testing.T) {
	c := newTestCodec(t)
	part := jsonLike(4096, 3)
	wire := c.appendEncode(nil, part)
	require.Equal(t, sentinelFrame, sentinelOf(wire))
	p := newPartCodec(c)

	_, _, err := p.decode(wire, 4095)
	assert.ErrorIs(t, err, transport.ErrTooLarge)
	plain, _, err := p.decode(wire, 4096)
	require.NoError(t, err)
	assert.Equal(t, part, plain)

	raw := appendPlain(nil, part)
	_, _, err = p.decode(raw, 4095)
	assert.ErrorIs(t, err, transport.ErrTooLarge)
	_, _, err = p.decode(raw, 4096)
	assert.NoError(t, err)
}

// bomb returns a well-formed frame header declaring size bytes followed by
// one tiny RLE block: a few bytes on the wire that claim to be huge.
func bomb(size uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(sentinelFrame))
	// Frame_Header_Descriptor: FCS field 8 bytes (3<<6), single segment.
	b = append(b, 3<<6|1<<5)
	b = binary.LittleEndian.AppendUint64(b, size)
	// Last block, RLE, repeating 'x' 1<<20 times would need several
	// blocks; one block of the maximum size is enough to start decoding.
	const blockSize = 128 << 10
	hdr := uint32(1) | uint32(1)<<1 | uint32(blockSize)<<3
	b = append(b, byte(hdr), byte(hdr>>8), byte(hdr>>16), 'x')
	return b
}

func TestDecompressionBombRejectedBeforeDecoding(t *testing.T) {
	c := newTestCodec(t)
	p := newPartCodec(c)
	for _, tc := range []struct {
		name   string
		size   uint64
		budget int64
	}{
		{"over the message budget", 1 << 40, 1 << 20},
		{"unlimited budget, over the part limit", 1 << 40, -1},
		{"just over the budget", 1<<20 + 1, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := bomb(tc.size)
			var h zstd.Header
			require.NoError(t, h.Decode(wire))
			require.Equal(t, tc.size, h.FrameContentSize)
			allocs := testing.AllocsPerRun(10, func() {
				_, _, err := p.decode(wire, tc.budget)
				if err == nil {
					t.Fatal("bomb accepted")
				}
			})
			_, deliver, err := p.decode(wire, tc.budget)
			assert.ErrorIs(t, err, transport.ErrTooLarge)
			assert.False(t, deliver)
			// The error message is all that is allocated: no output buffer.
			assert.LessOrEqual(t, allocs, 8.0)
		})
	}
}

func TestFrameDecodingStopsAtDeclaredSize(t *testing.T) {
	p := newPartCodec(newTestCodec(t))
	// Declares 100 bytes but its block decodes to 128 KiB.
	_, _, err := p.decode(bomb(100), -1)
	assert.ErrorIs(t, err, ErrBadFrame)
	assert.ErrorIs(t, err, transport.ErrProtocol)

	// Two frames in one part: the second would grow the output past the
	// first one's declared size.
	c := newTestCodec(t)
	one := c.appendEncode(nil, jsonLike(1000, 1))
	two := c.appendEncode(nil, jsonLike(1000, 2))
	_, _, err = p.decode(append(append([]byte{}, one...), two...), -1)
	assert.ErrorIs(t, err, ErrBadFrame)
}

// missingFCS returns a valid frame without Frame_Content_Size, as
// klauspost's default encoder writes for small inputs.
func missingFCS(t testing.TB) []byte {
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer enc.Close()
	return enc.EncodeAll(jsonLike(47, 5), nil)
}

func TestMissingContentSizeRejected(t *testing.T) {
	wire := missingFCS(t)
	var h zstd.Header
	require.NoError(t, h.Decode(wire))
	require.False(t, h.HasFCS, "this frame was meant to lack Frame_Content_Size")

	p := newPartCodec(newTestCodec(t))
	_, deliver, err := p.decode(wire, -1)
	assert.ErrorIs(t, err, ErrNoContentSize)
	assert.ErrorIs(t, err, transport.ErrProtocol)
	assert.False(t, deliver)
}

func TestUnknownSentinelsRejected(t *testing.T) {
	p := newPartCodec(newTestCodec(t))
	for _, part := range [][]byte{
		nil, {}, {0}, {0, 0}, {0, 0, 0},
		{0, 0, 0, 1},
		{1, 0, 0, 0, 'x'},
		{0x28, 0xB5, 0x2F, 0xFE, 0},
		{0x37, 0xA4, 0x30, 0xED},
		{0xFD, 0x2F, 0xB5, 0x28, 0}, // frame magic in the wrong byte order
		[]byte("hello world"),
	} {
		_, deliver, err := p.decode(part, -1)
		assert.ErrorIs(t, err, ErrUnknownSentinel, "% x", part)
		assert.ErrorIs(t, err, transport.ErrProtocol)
		assert.False(t, deliver)
	}
}

func TestDictionaryShipment(t *testing.T) {
	dict := testDict(t)
	sender := newPartCodec(newTestCodec(t, WithDictionary(dict)))
	hello := sender.Hello()
	require.Len(t, hello, 1)
	assert.Equal(t, dict, hello[0])
	assert.Nil(t, newPartCodec(newTestCodec(t)).Hello())

	t.Run("second dictionary rejected", func(t *testing.T) {
		p := newPartCodec(newTestCodec(t))
		_, deliver, err := p.decode(dict, -1)
		require.NoError(t, err)
		assert.False(t, deliver)
		_, deliver, err = p.decode(dict, -1)
		assert.ErrorIs(t, err, ErrSecondDictionary)
		assert.ErrorIs(t, err, transport.ErrProtocol)
		assert.False(t, deliver)
	})
	t.Run("oversized dictionary rejected", func(t *testing.T) {
		p := newPartCodec(newTestCodec(t))
		big := append(append([]byte{}, dict...), make([]byte, MaxDictSize)...)
		_, _, err := p.decode(big, -1)
		assert.ErrorIs(t, err, ErrBadDictionary)
	})
	t.Run("garbage dictionary rejected", func(t *testing.T) {
		p := newPartCodec(newTestCodec(t))
		_, _, err := p.decode([]byte{0x37, 0xA4, 0x30, 0xEC, 1, 2, 3}, -1)
		assert.ErrorIs(t, err, ErrBadDictionary)
		assert.ErrorIs(t, err, transport.ErrProtocol)
	})
	t.Run("frame using a dictionary never shipped", func(t *testing.T) {
		p := newPartCodec(newTestCodec(t))
		wire := sender.AppendEncode(nil, jsonLike(300, 1))
		require.Equal(t, sentinelFrame, sentinelOf(wire))
		_, _, err := p.decode(wire, -1)
		assert.ErrorIs(t, err, ErrBadFrame)
	})
}

func TestOptionsValidated(t *testing.T) {
	for name, opt := range map[string]Option{
		"level 0":            WithLevel(0),
		"level 23":           WithLevel(23),
		"raw dictionary":     WithDictionary([]byte("just some bytes, not a dictionary")),
		"huge dictionary":    WithDictionary(append([]byte{0x37, 0xA4, 0x30, 0xEC}, make([]byte, MaxDictSize)...)),
		"empty dictionary":   WithDictionary(nil),
		"zero max part size": WithMaxPartSize(0),
	} {
		c := defaultConfig()
		opt(&c)
		assert.ErrorIs(t, c.err, ErrConfig, name)
	}
	c := defaultConfig()
	WithLevel(19)(&c)
	WithDictionary(testDict(t))(&c)
	WithMaxPartSize(1 << 10)(&c)
	require.NoError(t, c.err)
}

// TestSharedEncoderCompressesOnce sends the same part through several
// connections' codecs, as a PUB does for its subscribers, and counts the
// compressions.
func TestSharedEncoderCompressesOnce(t *testing.T) {
	shared := newTestCodec(t)
	conns := make([]*partCodec, 5)
	for i := range conns {
		conns[i] = newPartCodec(shared)
	}
	part := jsonLike(4096, 8)
	var first []byte
	for i, pc := range conns {
		wire := pc.AppendEncode(nil, part)
		if i == 0 {
			first = wire
		}
		assert.Equal(t, first, wire)
	}
	assert.Equal(t, int64(1), shared.encodes.Load())

	// Same memory, different bytes: the cache must not serve stale data.
	part[0] = '['
	wire := conns[0].AppendEncode(nil, part)
	assert.Equal(t, int64(2), shared.encodes.Load())
	plain, _, err := newPartCodec(shared).decode(wire, -1)
	require.NoError(t, err)
	assert.Equal(t, part, plain)

	// Same bytes in other memory is a different part for the cache.
	conns[1].AppendEncode(nil, append([]byte{}, part...))
	assert.Equal(t, int64(3), shared.encodes.Load())

	// Small parts are never compressed nor cached.
	conns[2].AppendEncode(nil, part[:100])
	assert.Equal(t, int64(3), shared.encodes.Load())
}

func TestWarmEncodeDoesNotAllocate(t *testing.T) {
	c := newTestCodec(t)
	part := jsonLike(4096, 9)
	dst := make([]byte, 0, 8192)
	c.appendEncode(dst, part)
	allocs := testing.AllocsPerRun(50, func() { c.appendEncode(dst[:0], part) })
	assert.Zero(t, allocs, "cache hit")
	parts := [][]byte{jsonLike(4096, 10), jsonLike(4096, 11), jsonLike(4096, 12), jsonLike(4096, 13),
		jsonLike(4096, 14), jsonLike(4096, 15), jsonLike(4096, 16), jsonLike(4096, 17), jsonLike(4096, 18)}
	i := 0
	allocs = testing.AllocsPerRun(50, func() {
		c.appendEncode(dst[:0], parts[i%len(parts)]) // 9 parts, 8 slots: always a miss
		i++
	})
	assert.Zero(t, allocs, "cache miss with reused encoder")
}
