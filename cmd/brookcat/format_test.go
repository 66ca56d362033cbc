package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll reads every message of r.
func readAll(r msgReader) ([][][]byte, error) {
	var msgs [][][]byte
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

func frames(s ...string) [][]byte {
	f := make([][]byte, len(s))
	for i, x := range s {
		f[i] = []byte(x)
	}
	return f
}

func TestTextInput(t *testing.T) {
	msgs, err := readAll(newReader("text", strings.NewReader("a\tb\n\nlast"), "\t", 100))
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{frames("a", "b"), frames(""), frames("last")}, msgs, "an empty line is one empty frame; a last line without newline counts")

	msgs, err = readAll(newReader("text", strings.NewReader("a\tb\n"), "", 100))
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{frames("a\tb")}, msgs, `-d "" keeps the line whole`)

	msgs, err = readAll(newReader("text", strings.NewReader("ok\n"+strings.Repeat("x", 5000)+"\nnever\n"), "\t", 4096))
	assert.ErrorIs(t, err, errInput)
	assert.ErrorContains(t, err, "line 2: brookcat: bad input: longer than -max-size 4096 bytes")
	assert.Equal(t, [][][]byte{frames("ok")}, msgs, "messages before the bad line are kept")
}

func TestHexInput(t *testing.T) {
	msgs, err := readAll(newReader("hex", strings.NewReader("00ff\t68690a\n\n"), "\t", 100))
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{{{0, 0xff}, []byte("hi\n")}, {{}}}, msgs)
	_, err = readAll(newReader("hex", strings.NewReader("00\n0g\n"), "\t", 100))
	assert.ErrorIs(t, err, errInput)
	assert.ErrorContains(t, err, "line 2, frame 1: not hex")
}

func TestJSONInput(t *testing.T) {
	in := `{"frames":["a",{"hex":"00ff"},{"base64":"aGk="}]}
["b", ""]
  {"frames": ["multi
line is not a thing in JSON strings"]}`
	r := newReader("json", strings.NewReader(in), "\t", 100)
	msgs, err := readAll(r)
	assert.Equal(t, [][][]byte{{[]byte("a"), {0, 0xff}, []byte("hi")}, frames("b", "")}, msgs)
	assert.ErrorIs(t, err, errInput)
	assert.ErrorContains(t, err, "JSON message 3")

	for _, bad := range []string{`{"frames":[]}`, `[]`, `{"x":1}`, `[1]`, `[{"hex":"0"}]`, `[{"hex":"00","base64":"AA=="}]`, `["` + strings.Repeat("y", 101) + `"]`} {
		_, err := readAll(newReader("json", strings.NewReader(bad), "\t", 100))
		assert.ErrorIs(t, err, errInput, bad)
	}
}

func lp(msgs ...[][]byte) []byte {
	var b bytes.Buffer
	w := newWriter("lp", &b, "")
	for _, m := range msgs {
		if err := w.Write(m, ""); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func TestLPRoundTrip(t *testing.T) {
	in := [][][]byte{frames("a", "", "ccc"), {{0, 1, 2}}}
	msgs, err := readAll(newReader("lp", bytes.NewReader(lp(in...)), "", 100))
	require.NoError(t, err)
	assert.Equal(t, in, msgs)

	for name, b := range map[string][]byte{
		"zero frames":      {0, 0, 0, 0},
		"too many frames":  binary.BigEndian.AppendUint32(nil, maxFrames+1),
		"truncated count":  {0, 0},
		"truncated length": {0, 0, 0, 1, 0},
		"truncated frame":  {0, 0, 0, 1, 0, 0, 0, 5, 'a'},
		"over max-size":    {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff},
	} {
		_, err := readAll(newReader("lp", bytes.NewReader(b), "", 100))
		assert.ErrorIs(t, err, errInput, name)
	}
}

func TestRawInput(t *testing.T) {
	msgs, err := readAll(newReader("raw", strings.NewReader("line1\nline2\n"), "\t", 100))
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{frames("line1\nline2\n")}, msgs)
	_, err = readAll(newReader("raw", strings.NewReader("123456"), "\t", 5))
	assert.ErrorIs(t, err, errInput)
}

func TestWriters(t *testing.T) {
	msg := [][]byte{[]byte("a<b>&"), {0, 0xff}, {}}
	for _, tc := range []struct{ format, want string }{
		{"text", "a<b>&|\x00\xff|\n"},
		{"hex", "613c623e26|00ff|\n"},
		{"json", `{"frames":["a<b>&",{"hex":"00ff"},""]}` + "\n"},
		{"raw", "a<b>&\x00\xff"},
	} {
		var b bytes.Buffer
		require.NoError(t, newWriter(tc.format, &b, "|").Write(msg, ""))
		assert.Equal(t, tc.want, b.String(), tc.format)
	}
	// JSON output reads back as JSON input.
	var b bytes.Buffer
	require.NoError(t, newWriter("json", &b, "").Write(msg, ""))
	msgs, err := readAll(newReader("json", &b, "", 100))
	require.NoError(t, err)
	assert.Equal(t, [][][]byte{msg}, msgs)
}
