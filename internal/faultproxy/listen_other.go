//go:build !linux

package faultproxy

// refusesByClosing: off Linux a port cannot be kept without listening on
// it portably, so SetRefusing keeps listening and resets each new
// connection as soon as it is accepted.
const refusesByClosing = false

// reservePort reserves nothing: the listener takes a free port itself.
func reservePort() (func() error, string, error) {
	return func() error { return nil }, "127.0.0.1:0", nil
}
