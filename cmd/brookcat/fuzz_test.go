package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// The input decoders never panic, never return a message over the size
// bound, and what they accept survives a round trip through the matching
// output encoder.

func FuzzLPInput(f *testing.F) {
	f.Add(lp(frames("a", "", "ccc")))
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := readAll(newReader("lp", bytes.NewReader(b), "", 1024))
		checkMsgs(t, msgs, 1024)
		if err == nil && !bytes.Equal(lp(msgs...), b) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}

func FuzzJSONInput(f *testing.F) {
	f.Add(`{"frames":["a",{"hex":"00ff"},{"base64":"aGk="}]}`)
	f.Add(`["b",""] ["c"]`)
	f.Add(`{"frames":[{"hex":"zz"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		msgs, err := readAll(newReader("json", strings.NewReader(s), "", 1024))
		checkMsgs(t, msgs, 1024)
		var b bytes.Buffer
		w := newWriter("json", &b, "")
		for _, m := range msgs {
			if err := w.Write(m, ""); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(bytes.TrimSpace(b.Bytes())) {
				t.Fatalf("invalid JSON output %q", b.String())
			}
			again, err := readAll(newReader("json", bytes.NewReader(b.Bytes()), "", 1024))
			if err != nil || len(again) != 1 || !equalMsgs(again[0], m) {
				t.Fatalf("round trip: %q -> %q (%v)", m, again, err)
			}
			b.Reset()
		}
		_ = err
	})
}

func FuzzLineInput(f *testing.F) {
	f.Add("00ff\t6869\n\nzz\n", "\t")
	f.Add("a|b|c", "|")
	f.Fuzz(func(t *testing.T, s, delim string) {
		for _, format := range []string{"text", "hex"} {
			msgs, err := readAll(newReader(format, strings.NewReader(s), delim, 64))
			checkMsgs(t, msgs, 64)
			if err != nil && !errors.Is(err, errInput) && !errors.Is(err, io.EOF) {
				t.Fatalf("%s: unexpected error kind %v", format, err)
			}
			if format != "hex" || delim == "" || strings.ContainsAny(delim, "0123456789abcdefABCDEF \t\r\n\v\f") {
				continue
			}
			// Hex lines written by the hex output read back the same.
			for _, m := range msgs {
				var b bytes.Buffer
				if err := newWriter("hex", &b, delim).Write(m, ""); err != nil {
					t.Fatal(err)
				}
				again, err := readAll(newReader("hex", &b, delim, 1<<20))
				if err != nil || len(again) != 1 || !equalMsgs(again[0], m) {
					t.Fatalf("hex round trip: %q -> %q (%v)", m, again, err)
				}
			}
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	f.Add("-n 3 -s a SUB @tcp://127.0.0.1:1")
	f.Add("-in lp -out json ROUTER >ipc:///x")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseArgs(strings.Fields(line))
		if err == nil && (len(c.endpoints) == 0 || c.count < 0) {
			t.Fatalf("accepted %q as %+v", line, c)
		}
	})
}

func checkMsgs(t *testing.T, msgs [][][]byte, max int) {
	t.Helper()
	for _, m := range msgs {
		if len(m) == 0 {
			t.Fatalf("a message without frames")
		}
		n := 0
		for _, f := range m {
			n += len(f)
		}
		if n > max {
			t.Fatalf("a message of %d bytes passed a %d bound", n, max)
		}
	}
}

func equalMsgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
