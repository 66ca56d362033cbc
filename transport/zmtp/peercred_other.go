//go:build !linux

package zmtp

import "io"

// unixPeerCredentials is empty where brook does not read unix socket
// peer credentials.
func unixPeerCredentials(io.ReadWriteCloser) string { return "" }
