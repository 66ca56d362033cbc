//go:build !linux

package zmtp

import "io"

// vecRead would read a large body and what follows it in one system
// call; off Linux the reader does two reads instead.
type vecRead struct{}

func (*vecRead) usable(io.Reader) bool { return false }

func (*vecRead) read(a, b []byte) (int, error) { panic("zmtp: no vectored read on this platform") }
