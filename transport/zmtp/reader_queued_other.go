//go:build !linux

package zmtp

import "io"

// streamQueued would report the bytes the kernel holds for reading on
// r's socket; off Linux it reports none, and a large body grows from
// what the read buffer shows has arrived (doubling), never from what was
// announced.
func streamQueued(io.Reader) int { return 0 }

// inQueue would ask the kernel how many bytes wait on a stream's socket;
// off Linux it has no way to and reports none.
type inQueue struct{}

func (*inQueue) count(io.Reader) int { return 0 }
