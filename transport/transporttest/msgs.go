package transporttest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/stretchr/testify/assert"

	"github.com/brookmq/brook/transport"
)

// msg builds a message from strings.
func msg(frames ...string) transport.Msg {
	m := transport.Msg{Frames: make([][]byte, len(frames))}
	for i, f := range frames {
		m.Frames[i] = []byte(f)
	}
	return m
}

// seqMsg is a one-frame message carrying n, as sent by the stream tests.
func seqMsg(n uint64) transport.Msg {
	return transport.Msg{Frames: [][]byte{binary.BigEndian.AppendUint64(nil, n)}}
}

// seqOf decodes a seqMsg.
func seqOf(m transport.Msg) (uint64, error) {
	if len(m.Frames) != 1 || len(m.Frames[0]) != 8 {
		return 0, fmt.Errorf("want one 8-byte frame, got %s", describe(m))
	}
	return binary.BigEndian.Uint64(m.Frames[0]), nil
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(n))
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// sameMsg reports whether a and b have the same frames, byte for byte
// (nil and empty frames are the same).
func sameMsg(a, b transport.Msg) bool {
	if len(a.Frames) != len(b.Frames) {
		return false
	}
	for i := range a.Frames {
		if !bytes.Equal(a.Frames[i], b.Frames[i]) {
			return false
		}
	}
	return true
}

// describe summarises a message for failure output without dumping
// megabytes: frame count and each frame's length and first bytes.
func describe(m transport.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d frame(s)", len(m.Frames))
	for i, f := range m.Frames {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		head := f
		if len(head) > 16 {
			head = head[:16]
		}
		fmt.Fprintf(&b, " [%d: %d bytes %q]", i, len(f), head)
	}
	return b.String()
}

// cloneAll deep-copies msgs: the expected values, kept apart from the
// frames handed to the transport.
func cloneAll(msgs []transport.Msg) []transport.Msg {
	out := make([]transport.Msg, len(msgs))
	for i, m := range msgs {
		out[i] = m.Clone()
	}
	return out
}

// assertSame reports a mismatch between want and got, describing both
// (only then: describing is not free, and the streams are long).
func (e *env) assertSame(want, got transport.Msg, format string, args ...any) bool {
	e.t.Helper()
	if sameMsg(want, got) {
		return true
	}
	return assert.Fail(e.t, fmt.Sprintf(format, args...), "want %s\n got %s", describe(want), describe(got))
}

// requireSame is assertSame that stops the subtest.
func (e *env) requireSame(want, got transport.Msg, format string, args ...any) {
	e.t.Helper()
	if !e.assertSame(want, got, format, args...) {
		e.t.FailNow()
	}
}
