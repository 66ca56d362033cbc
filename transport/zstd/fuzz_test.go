package zstd

import (
	"bytes"
	"errors"
	"testing"

	"github.com/brookmq/brook/transport"
)

// FuzzDecodePart feeds arbitrary wire parts to a connection's decoder: it
// must never panic, never return more than the budget allows, return
// uncompressed parts unchanged, and fail only with profile errors.
func FuzzDecodePart(f *testing.F) {
	c := newTestCodec(f)
	dc := newTestCodec(f, WithDictionary(testDict(f)), WithMaxPartSize(1<<20))
	f.Add(c.appendEncode(nil, jsonLike(2000, 1)), int64(-1), false)
	f.Add(dc.appendEncode(nil, jsonLike(200, 2)), int64(1000), true)
	f.Add(appendPlain(nil, []byte("hello")), int64(5), false)
	f.Add(bomb(1<<40), int64(-1), false)
	f.Add(testDict(f), int64(-1), false)
	f.Fuzz(func(t *testing.T, part []byte, budget int64, withDict bool) {
		shared := c
		if withDict {
			shared = dc
		}
		p := newPartCodec(shared)
		if withDict {
			if _, _, err := p.decode(shared.dict, -1); err != nil {
				t.Fatalf("own dictionary refused: %v", err)
			}
		}
		plain, deliver, err := p.decode(append([]byte{}, part...), budget)
		if err != nil {
			if deliver || plain != nil {
				t.Fatalf("error %v with deliver=%v plain=%d bytes", err, deliver, len(plain))
			}
			if !errors.Is(err, transport.ErrProtocol) && !errors.Is(err, transport.ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !deliver {
			if sentinelOf(part) != sentinelDict {
				t.Fatalf("non-dictionary part not delivered")
			}
			return
		}
		if budget >= 0 && int64(len(plain)) > budget {
			t.Fatalf("%d bytes delivered over a budget of %d", len(plain), budget)
		}
		if sentinelOf(part) == sentinelPlain && !bytes.Equal(plain, part[sentinelLen:]) {
			t.Fatalf("uncompressed part changed")
		}
	})
}

// FuzzRoundTrip encodes arbitrary parts and decodes them back.
func FuzzRoundTrip(f *testing.F) {
	c := newTestCodec(f)
	dc := newTestCodec(f, WithDictionary(testDict(f)))
	f.Add(jsonLike(600, 1), false)
	f.Add(jsonLike(100, 1), true)
	f.Add([]byte{}, false)
	f.Add(noise(700, 1), true)
	f.Fuzz(func(t *testing.T, part []byte, withDict bool) {
		shared := c
		if withDict {
			shared = dc
		}
		wire := shared.appendEncode(nil, part)
		if len(wire) > len(part)+sentinelLen {
			t.Fatalf("wire form of %d bytes is %d bytes", len(part), len(wire))
		}
		p := newPartCodec(c)
		if withDict {
			if _, _, err := p.decode(dc.dict, -1); err != nil {
				t.Fatal(err)
			}
		}
		plain, deliver, err := p.decode(wire, int64(len(part)))
		if err != nil || !deliver {
			t.Fatalf("decode: %v deliver=%v", err, deliver)
		}
		if !bytes.Equal(plain, part) {
			t.Fatalf("round trip changed the part")
		}
	})
}
