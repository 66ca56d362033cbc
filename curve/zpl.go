package curve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrCertificate means a certificate file could not be parsed, or holds
// no usable key.
var ErrCertificate = errors.New("brook: invalid CURVE certificate")

// maxCertificateSize bounds a certificate file: real ones are a few
// hundred bytes.
const maxCertificateSize = 64 << 10

// zplEntry is one "path = value" line of a ZPL document (RFC 4), with
// path the names of its enclosing sections and itself joined by "/".
type zplEntry struct {
	path  string
	value string
	line  int
}

// parseZPL reads the name = value entries of a ZPL document. Sections
// nest by indentation of four spaces per level. Values may be quoted
// with " or ', or bare: a bare value runs to the end of the line or to a
// " #" comment, so the unquoted metadata pyzmq writes (name = John Doe)
// reads as written.
func parseZPL(data []byte) ([]zplEntry, error) {
	var (
		entries []zplEntry
		stack   []string // names of the open sections, by level
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), maxCertificateSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		body := strings.TrimLeft(line, " ")
		if body == "" || body[0] == '#' {
			continue
		}
		indent := len(line) - len(body)
		if body[0] == '\t' || indent%4 != 0 {
			return nil, fmt.Errorf("%w: line %d: indent with multiples of four spaces", ErrCertificate, n)
		}
		level := indent / 4
		if level > len(stack) {
			return nil, fmt.Errorf("%w: line %d: indented deeper than its section", ErrCertificate, n)
		}
		stack = stack[:level]
		name, value, hasValue := strings.Cut(body, "=")
		name = strings.TrimSpace(name)
		if !validZPLName(name) {
			return nil, fmt.Errorf("%w: line %d: invalid name %q", ErrCertificate, n, name)
		}
		stack = append(stack, name)
		if !hasValue {
			continue
		}
		v, err := zplValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrCertificate, n, err)
		}
		entries = append(entries, zplEntry{path: strings.Join(stack, "/"), value: v, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	return entries, nil
}

// validZPLName accepts the name characters of RFC 4: letters, digits and
// $ - _ @ . & + /.
func validZPLName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("$-_@.&+/", r):
		default:
			return false
		}
	}
	return true
}

// zplValue decodes a value: quoted (the quotes removed, anything after
// the closing quote must be a comment) or bare (up to a " #" comment).
func zplValue(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if q := v[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(v[1:], q)
		if end < 0 {
			return "", errors.New("unterminated quoted value")
		}
		rest := strings.TrimSpace(v[2+end:])
		if rest != "" && rest[0] != '#' {
			return "", fmt.Errorf("text after the quoted value: %q", rest)
		}
		return v[1 : 1+end], nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

// zplQuote returns v quoted for a ZPL file, with the quote character v
// does not contain; ok is false when it contains both, or a line break.
func zplQuote(v string) (string, bool) {
	switch {
	case strings.ContainsAny(v, "\r\n"):
		return "", false
	case !strings.Contains(v, `"`):
		return `"` + v + `"`, true
	case !strings.Contains(v, "'"):
		return "'" + v + "'", true
	}
	return "", false
}
