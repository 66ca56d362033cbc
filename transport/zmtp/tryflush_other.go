//go:build !unix

package zmtp

// writeNow cannot write without waiting here: TryFlush leaves it all to
// Flush.
func (c *Conn) writeNow([]byte) (int, error) { return -1, nil }
