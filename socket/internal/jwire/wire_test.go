package jwire

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelloRoundTrip(t *testing.T) {
	for _, h := range []Hello{
		{},
		{Flags: FlagJournal, Journal: [16]byte{1, 2, 3, 15: 9}, Epoch: 7},
		{Flags: FlagJournal | FlagPublisher, Epoch: math.MaxUint64},
	} {
		b := AppendHello(nil, h)
		got, err := ParseHello(b)
		require.NoError(t, err)
		assert.Equal(t, h, got)
		got, err = ParseHello(append(b, 0xAA, 0xBB)) // a later version's extra fields
		require.NoError(t, err)
		assert.Equal(t, h, got)
	}
	for name, b := range map[string][]byte{
		"empty":                 {},
		"no flags":              {Version},
		"version 2":             {2, 0},
		"reserved flag":         {Version, 0x80},
		"publisher, no journal": {Version, FlagPublisher},
		"journal cut short":     append([]byte{Version, FlagJournal}, make([]byte, 20)...),
	} {
		_, err := ParseHello(b)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestDataRoundTrip(t *testing.T) {
	for _, d := range []Data{
		{Offset: 0, Floor: 0, Count: 1, Time: 0},
		{Offset: 1 << 40, Epoch: 3, Floor: 1<<40 - 5, Count: 7, Time: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).UnixNano()},
		{Offset: math.MaxUint64, Epoch: math.MaxUint64, Floor: 0, Count: math.MaxUint32, Time: -1},
	} {
		b := AppendData(nil, d)
		assert.LessOrEqual(t, len(b), MaxData)
		got, err := ParseData(b)
		require.NoError(t, err)
		assert.Equal(t, d, got)
		_, err = ParseData(append(b, 0))
		assert.ErrorIs(t, err, ErrMalformed, "trailing byte")
		_, err = ParseData(b[:len(b)-1])
		assert.ErrorIs(t, err, ErrMalformed, "cut short")
	}
	zero := AppendData(nil, Data{Offset: 5, Floor: 5, Count: 1})
	zero[3] = 0 // delivery count 0
	_, err := ParseData(zero)
	assert.ErrorIs(t, err, ErrMalformed)
	above := AppendData(nil, Data{Offset: 5, Floor: 5, Count: 1})
	above[2] = 6 // floor delta beyond the offset
	_, err = ParseData(above)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestRangesRoundTrip(t *testing.T) {
	for _, rs := range [][]Range{
		{},
		{{0, 1}},
		{{3, 10}, {11, 12}, {1000, 5000}},
		{{math.MaxUint64 - 2, math.MaxUint64}},
	} {
		seq, got, err := ParseAck(AppendAck(nil, 7, rs))
		require.NoError(t, err)
		assert.Equal(t, rs, got)
		assert.EqualValues(t, 7, seq)
		got, err = ParseRanges(AppendRanges(nil, rs))
		require.NoError(t, err)
		assert.Equal(t, rs, got)
		delay, got, err := ParseNack(AppendNack(nil, 1500*time.Millisecond, rs))
		require.NoError(t, err)
		assert.Equal(t, rs, got)
		assert.Equal(t, 1500*time.Millisecond, delay)
	}
	for name, rs := range map[string][]Range{
		"touching":    {{1, 3}, {3, 5}},
		"overlapping": {{1, 5}, {4, 6}},
		"empty range": {{4, 4}},
		"backwards":   {{9, 10}, {2, 3}},
	} {
		_, err := ParseRanges(rawRanges(rs))
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	many := make([]Range, MaxRanges+1)
	for i := range many {
		many[i] = Range{uint64(2 * i), uint64(2*i + 1)}
	}
	_, _, err := ParseAck(AppendAck(nil, 1, many))
	assert.ErrorIs(t, err, ErrMalformed, "more than MaxRanges")
	assert.Less(t, len(AppendAck(nil, math.MaxUint64, many[:MaxRanges])), 64<<10, "a full JACK fits a command")
	overflow := append([]byte{2}, rawVarints(math.MaxUint64, 1, 5, 1)...)
	_, err = ParseRanges(overflow)
	assert.ErrorIs(t, err, ErrMalformed, "offset overflow")
	seq, err := ParseDone(AppendDone(nil, 42))
	require.NoError(t, err)
	assert.EqualValues(t, 42, seq)
	_, err = ParseDone(AppendDone(nil, 0))
	assert.ErrorIs(t, err, ErrMalformed, "JDONE 0")
}

// rawRanges encodes rs as AppendRanges would, without its checks.
func rawRanges(rs []Range) []byte {
	b := []byte{byte(len(rs))}
	var prev uint64
	for _, r := range rs {
		b = append(b, rawVarints(r.Lo-prev, r.Hi-r.Lo)...)
		prev = r.Hi
	}
	return b
}

func rawVarints(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		b = append(b, byte(v))
	}
	return b
}

func TestStreamRoundTrip(t *testing.T) {
	for _, st := range []Stream{{}, {Offset: 9, Epoch: 2, Skip: 9, Time: -5}, {Offset: math.MaxUint64, Skip: 1, Time: math.MaxInt64}} {
		b := AppendStream(nil, st)
		assert.LessOrEqual(t, len(b), MaxStream)
		got, err := ParseStream(b)
		require.NoError(t, err)
		assert.Equal(t, st, got)
	}
	bad := AppendStream(nil, Stream{Offset: 3, Skip: 3})
	bad[2] = 4 // skip beyond the offset
	_, err := ParseStream(bad)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestSubAndStartRoundTrip(t *testing.T) {
	for _, s := range []Sub{{Mode: StartLive}, {Mode: StartOldest}, {Mode: StartOffset, Value: 42}, {Mode: StartTime, Value: 1 << 60}} {
		got, err := ParseSub(AppendSub(nil, s))
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	for name, b := range map[string][]byte{
		"mode 4":         rawVarints(4, 0),
		"live + value":   rawVarints(StartLive, 1),
		"missing value":  rawVarints(StartOffset),
		"trailing bytes": rawVarints(StartOffset, 1, 1),
	} {
		_, err := ParseSub(b)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	for _, s := range []StartInfo{{}, {First: 100, Gap: 20, Flags: StartBeyondEnd}} {
		got, err := ParseStart(AppendStart(nil, s))
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	_, err := ParseStart(append(rawVarints(1, 0), 0x02))
	assert.ErrorIs(t, err, ErrMalformed, "reserved JSTART flag")
}

// FuzzCommands decodes arbitrary bytes as every command and property: no
// panic, no allocation out of proportion to the input, and whatever
// decodes re-encodes to the very same bytes (one encoding per value).
func FuzzCommands(f *testing.F) {
	f.Add(byte(0), AppendHello(nil, Hello{Flags: FlagJournal, Epoch: 1}))
	f.Add(byte(1), AppendData(nil, Data{Offset: 9, Floor: 3, Count: 2, Time: 77}))
	f.Add(byte(2), AppendAck(nil, 3, []Range{{1, 4}, {8, 9}}))
	f.Add(byte(3), AppendNack(nil, time.Second, []Range{{0, 1}}))
	f.Add(byte(4), AppendSub(nil, Sub{Mode: StartOffset, Value: 12}))
	f.Add(byte(5), AppendStart(nil, StartInfo{First: 3, Gap: 1, Flags: 1}))
	f.Add(byte(6), AppendStream(nil, Stream{Offset: 7, Epoch: 1, Skip: 2, Time: 3}))
	f.Add(byte(7), AppendDone(nil, 9))
	f.Add(byte(8), AppendRun(nil, []Stream{{Offset: 7, Epoch: 1, Skip: 2, Time: 3}, {Offset: 8, Epoch: 1, Time: 2}, {Offset: 12, Epoch: 1, Skip: 3, Time: 9}}))
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		switch kind % 9 {
		case 0:
			if h, err := ParseHello(b); err == nil {
				enc := AppendHello(nil, h)
				require.True(t, bytes.HasPrefix(b, enc), "hello re-encodes as a prefix of its input")
			}
		case 1:
			if d, err := ParseData(b); err == nil {
				require.Equal(t, b, AppendData(nil, d))
			}
		case 2:
			if seq, rs, err := ParseAck(b); err == nil {
				require.LessOrEqual(t, len(rs), len(b))
				require.Equal(t, b, AppendAck(nil, seq, rs))
			}
		case 3:
			if d, rs, err := ParseNack(b); err == nil {
				require.Equal(t, b, AppendNack(nil, d, rs))
			}
		case 4:
			if s, err := ParseSub(b); err == nil {
				require.Equal(t, b, AppendSub(nil, s))
			}
		case 5:
			if s, err := ParseStart(b); err == nil {
				require.Equal(t, b, AppendStart(nil, s))
			}
		case 6:
			if s, err := ParseStream(b); err == nil {
				require.Equal(t, b, AppendStream(nil, s))
			}
		case 7:
			if seq, err := ParseDone(b); err == nil {
				require.Equal(t, b, AppendDone(nil, seq))
			}
		case 8:
			if ss, err := ParseRun(nil, b); err == nil {
				require.LessOrEqual(t, len(ss), len(b))
				require.Equal(t, b, AppendRun(nil, ss))
			} else {
				require.Empty(t, ss, "a malformed JRUN adds nothing")
			}
		}
	})
}

// A JRUN carries each message's offset, skip and time, in order, and
// refuses what does not decode exactly.
func TestRun(t *testing.T) {
	ss := []Stream{
		{Offset: 10, Epoch: 4, Skip: 3, Time: 1_000_000},
		{Offset: 11, Epoch: 4, Time: 1_000_500},
		{Offset: 20, Epoch: 4, Skip: 8, Time: 999_000}, // a time may go back
	}
	b := AppendRun(nil, ss)
	got, err := ParseRun([]Stream{{Offset: 1}}, b)
	require.NoError(t, err)
	assert.Equal(t, append([]Stream{{Offset: 1}}, ss...), got, "appended after what dst held")
	for name, bad := range map[string][]byte{
		"empty":          nil,
		"no messages":    append(rawVarints(4, 0, 10, 3), make([]byte, 8)...),
		"too many":       append(rawVarints(4, MaxRun+1, 10, 3), make([]byte, 8)...),
		"skip too large": append(rawVarints(4, 1, 10, 11), make([]byte, 8)...),
		"cut short":      b[:len(b)-1],
		"trailing":       append(append([]byte(nil), b...), 0),
		"overflow":       append(append(rawVarints(4, 2, 1<<64-1, 0), make([]byte, 8)...), rawVarints(0, 0)...),
	} {
		got, err := ParseRun([]Stream{{Offset: 1}}, bad)
		assert.ErrorIs(t, err, ErrMalformed, name)
		assert.Len(t, got, 1, name)
	}
	h, err := ParseHello(AppendHello(nil, Hello{Flags: FlagRuns}))
	require.NoError(t, err)
	assert.True(t, h.Runs())
	assert.False(t, h.Publisher())
}
