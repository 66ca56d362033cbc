package curve

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test case of RFC 32.
func TestZ85RFCVector(t *testing.T) {
	raw := []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}
	s, err := EncodeZ85(raw)
	require.NoError(t, err)
	assert.Equal(t, "HelloWorld", s)
	back, err := DecodeZ85("HelloWorld")
	require.NoError(t, err)
	assert.Equal(t, raw, back)
}

func TestZ85Extremes(t *testing.T) {
	for _, tc := range []struct {
		raw  []byte
		text string
	}{
		{[]byte{0, 0, 0, 0}, "00000"},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF}, "%nSc0"}, // 2^32-1, the largest group
		{nil, ""},
	} {
		s, err := EncodeZ85(tc.raw)
		require.NoError(t, err)
		assert.Equal(t, tc.text, s)
		back, err := DecodeZ85(tc.text)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(tc.raw, back))
	}
}

func TestZ85Invalid(t *testing.T) {
	_, err := EncodeZ85([]byte{1, 2, 3})
	assert.ErrorIs(t, err, ErrZ85)
	for name, s := range map[string]string{
		"length":           "Hell",
		"length not five":  "HelloWorl",
		"space":            "Hello orld",
		"quote":            `Hell"World`,
		"tilde":            "~~~~~",
		"beyond 32 bits":   "%nSc1",
		"largest 5 digits": "#####",
		"high byte":        "Hel\xe9o",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeZ85(s)
			assert.ErrorIs(t, err, ErrZ85)
		})
	}
}

func TestZ85RoundTrip(t *testing.T) {
	raw := make([]byte, 256)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	s, err := EncodeZ85(raw)
	require.NoError(t, err)
	assert.Len(t, s, 320)
	for _, c := range s {
		assert.True(t, strings.ContainsRune(z85Alphabet, c))
	}
	back, err := DecodeZ85(s)
	require.NoError(t, err)
	assert.Equal(t, raw, back)
}

// FuzzDecodeZ85 checks that decoding never panics, that what decodes
// encodes back to the same text, and that what fails matches ErrZ85.
func FuzzDecodeZ85(f *testing.F) {
	for _, s := range []string{"HelloWorld", "00000", "%nSc0", "%nSc1", "#####", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := DecodeZ85(s)
		if err != nil {
			require.ErrorIs(t, err, ErrZ85)
			return
		}
		again, err := EncodeZ85(raw)
		require.NoError(t, err)
		require.Equal(t, s, again)
	})
}
