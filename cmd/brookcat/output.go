package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"unicode/utf8"
)

// msgWriter writes received messages; each Write is flushed, so that a
// consumer down a pipe sees every message as it arrives. user is the
// sender's authenticated user id ("" when none); only JSON shows it.
type msgWriter interface {
	Write(frames [][]byte, user string) error
}

func newWriter(format string, w io.Writer, delim string) msgWriter {
	bw := bufio.NewWriter(w)
	switch format {
	case "hex":
		return &lineWriter{bw: bw, delim: delim, hex: true}
	case "json":
		return &jsonWriter{bw: bw}
	case "lp":
		return &lpWriter{bw: bw}
	case "raw":
		return &rawWriter{bw: bw}
	}
	return &lineWriter{bw: bw, delim: delim}
}

type lineWriter struct {
	bw    *bufio.Writer
	delim string
	hex   bool
}

func (l *lineWriter) Write(frames [][]byte, _ string) error {
	for i, f := range frames {
		if i > 0 {
			l.bw.WriteString(l.delim)
		}
		if l.hex {
			l.bw.WriteString(hex.EncodeToString(f))
		} else {
			l.bw.Write(f)
		}
	}
	l.bw.WriteByte('\n')
	return l.bw.Flush()
}

type jsonWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

func (j *jsonWriter) Write(frames [][]byte, user string) error {
	if j.enc == nil {
		j.enc = json.NewEncoder(j.bw)
		j.enc.SetEscapeHTML(false)
	}
	m := jsonMsgOf(frames)
	m.User = user
	if err := j.enc.Encode(m); err != nil { // one line, newline included
		return err
	}
	return j.bw.Flush()
}

// jsonMsg is a message as JSON output writes it. JSON input ignores
// User, so JSON output reads back as input.
type jsonMsg struct {
	Frames []any `json:"frames"`
	// User is the sender's authenticated user id (PLAIN user name, CURVE
	// client key), on a PLAIN or CURVE server only.
	User string `json:"user,omitempty"`
}

// jsonHex is a frame that is not UTF-8.
type jsonHex struct {
	Hex string `json:"hex"`
}

// jsonMsgOf represents each UTF-8 frame as a string, any other as
// {"hex": "..."}.
func jsonMsgOf(frames [][]byte) jsonMsg {
	m := jsonMsg{Frames: make([]any, len(frames))}
	for i, f := range frames {
		if utf8.Valid(f) {
			m.Frames[i] = string(f)
		} else {
			m.Frames[i] = jsonHex{Hex: hex.EncodeToString(f)}
		}
	}
	return m
}

type lpWriter struct{ bw *bufio.Writer }

func (l *lpWriter) Write(frames [][]byte, _ string) error {
	l.bw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(frames))))
	for _, f := range frames {
		l.bw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
		l.bw.Write(f)
	}
	return l.bw.Flush()
}

type rawWriter struct{ bw *bufio.Writer }

func (r *rawWriter) Write(frames [][]byte, _ string) error {
	for _, f := range frames {
		r.bw.Write(f)
	}
	return r.bw.Flush()
}
