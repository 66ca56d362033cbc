//go:build linux

package faultproxy

import (
	"fmt"
	"syscall"
)

// refusesByClosing: SetRefusing stops listening while reservePort's socket
// keeps the port, so dials are refused by the kernel.
const refusesByClosing = true

// reservePort binds a socket to a free port of 127.0.0.1 without
// listening on it, and returns that address and how to release it. With
// SO_REUSEADDR on both, Linux lets the proxy's listener bind the same
// port beside it, and the port stays the proxy's while the listener is
// closed: a SYN then finds no listener and is answered with a reset, so a
// dial fails with ECONNREFUSED and no other socket can take the port.
func reservePort() (func() error, string, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (func() error, string, error) {
		_ = syscall.Close(fd)
		return nil, "", err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fail(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fail(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		return fail(fmt.Errorf("unexpected socket address %T", sa))
	}
	return func() error { return syscall.Close(fd) }, fmt.Sprintf("127.0.0.1:%d", in4.Port), nil
}
