package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxFrames bounds the frames of one length-prefixed input message.
const maxFrames = 1 << 16

// errInput marks malformed input; the message says where.
var errInput = errors.New("brookcat: bad input")

// msgReader yields the input's messages, io.EOF at its end.
type msgReader interface {
	Next() ([][]byte, error)
}

func newReader(format string, r io.Reader, delim string, maxSize int64) msgReader {
	switch format {
	case "hex":
		return &lineReader{br: bufio.NewReader(r), delim: delim, max: maxSize, decode: decodeHex}
	case "json":
		return &jsonReader{dec: json.NewDecoder(r), max: maxSize}
	case "lp":
		return &lpReader{br: bufio.NewReader(r), max: maxSize}
	case "raw":
		return &rawReader{r: r, max: maxSize}
	}
	return &lineReader{br: bufio.NewReader(r), delim: delim, max: maxSize, decode: func(s string) ([]byte, error) { return []byte(s), nil }}
}

// lineReader reads one message per line, frames split on delim.
type lineReader struct {
	br     *bufio.Reader
	delim  string
	max    int64
	line   int
	decode func(string) ([]byte, error)
}

func (l *lineReader) Next() ([][]byte, error) {
	text, err := readLine(l.br, l.max)
	if err != nil {
		if errors.Is(err, errInput) {
			return nil, fmt.Errorf("%w: line %d: %w", errInput, l.line+1, err)
		}
		return nil, err
	}
	l.line++
	fields := []string{text}
	if l.delim != "" {
		fields = strings.Split(text, l.delim)
	}
	frames := make([][]byte, len(fields))
	for i, f := range fields {
		if frames[i], err = l.decode(f); err != nil {
			return nil, fmt.Errorf("%w: line %d, frame %d: %w", errInput, l.line, i+1, err)
		}
	}
	return frames, nil
}

// readLine returns the next line without its "\n"; a last line without
// one counts. A line longer than max is an error, before it is all read.
func readLine(br *bufio.Reader, max int64) (string, error) {
	tooLong := fmt.Errorf("%w: longer than -max-size %d bytes", errInput, max)
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		line := b
		if err == nil {
			line = b[:len(b)-1]
		}
		if int64(len(line)) > max {
			return "", tooLong // before reading the rest of it
		}
		switch {
		case err == nil:
			return string(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(b) > 0:
			return string(b), nil
		default:
			return "", err
		}
	}
}

func decodeHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	return b, nil
}

// jsonReader reads one JSON value per message: {"frames": [...]} or a
// bare array; each frame a string, {"hex": "..."} or {"base64": "..."}.
type jsonReader struct {
	dec *json.Decoder
	max int64
	n   int
}

func (j *jsonReader) Next() ([][]byte, error) {
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: JSON message %d (byte %d): %w", errInput, j.n+1, j.dec.InputOffset(), err)
	}
	j.n++
	frames, err := decodeJSONMsg(raw, j.max)
	if err != nil {
		return nil, fmt.Errorf("%w: JSON message %d: %w", errInput, j.n, err)
	}
	return frames, nil
}

// decodeJSONMsg decodes one message value.
func decodeJSONMsg(raw json.RawMessage, max int64) ([][]byte, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var obj struct {
			Frames []json.RawMessage `json:"frames"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil || obj.Frames == nil {
			return nil, errors.New(`want {"frames": [...]} or an array of frames`)
		}
		list = obj.Frames
	}
	if len(list) == 0 {
		return nil, errors.New("a message needs at least one frame")
	}
	frames := make([][]byte, len(list))
	var size int64
	for i, f := range list {
		b, err := decodeJSONFrame(f)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i+1, err)
		}
		if size += int64(len(b)); size > max {
			return nil, fmt.Errorf("longer than -max-size %d bytes", max)
		}
		frames[i] = b
	}
	return frames, nil
}

func decodeJSONFrame(f json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(f, &s); err == nil {
		return []byte(s), nil
	}
	var o struct {
		Hex    *string `json:"hex"`
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(f, &o); err != nil || (o.Hex == nil) == (o.Base64 == nil) {
		return nil, errors.New(`want a string, {"hex": "..."} or {"base64": "..."}`)
	}
	if o.Hex != nil {
		return hex.DecodeString(*o.Hex)
	}
	return base64.StdEncoding.DecodeString(*o.Base64)
}

// lpReader reads length-prefixed messages.
type lpReader struct {
	br  *bufio.Reader
	max int64
	n   int
}

func (l *lpReader) Next() ([][]byte, error) {
	frames, err := readLP(l.br, l.max)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: length-prefixed message %d: %w", errInput, l.n+1, err)
	}
	l.n++
	return frames, nil
}

// readLP reads one message: a 4-byte frame count, then per frame a 4-byte
// length and the bytes. io.EOF only before the first byte.
func readLP(r io.Reader, max int64) ([][]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("truncated frame count")
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxFrames {
		return nil, fmt.Errorf("frame count %d: want 1..%d", n, maxFrames)
	}
	frames := make([][]byte, 0, min(n, 64))
	var size int64
	for i := range n {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("frame %d: truncated length", i+1)
		}
		l := int64(binary.BigEndian.Uint32(hdr[:]))
		if size += l; size > max {
			return nil, fmt.Errorf("frame %d: message longer than -max-size %d bytes", i+1, max)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("frame %d: truncated: want %d bytes", i+1, l)
		}
		frames = append(frames, b)
	}
	return frames, nil
}

// rawReader reads all of its input as one single-frame message.
type rawReader struct {
	r    io.Reader
	max  int64
	done bool
}

func (r *rawReader) Next() ([][]byte, error) {
	if r.done {
		return nil, io.EOF
	}
	r.done = true
	b, err := io.ReadAll(io.LimitReader(r.r, r.max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > r.max {
		return nil, fmt.Errorf("%w: longer than -max-size %d bytes", errInput, r.max)
	}
	return [][]byte{b}, nil
}
