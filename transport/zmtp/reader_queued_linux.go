//go:build linux

package zmtp

import (
	"io"
	"syscall"
	"unsafe"
)

// streamQueued returns how many bytes the kernel already holds for
// reading on r's socket (the SIOCINQ ioctl, which TIOCINQ names), or 0
// when r is not a socket or the count cannot be had. The reader sizes a
// large body by what has arrived, never by what was announced, and this
// lets a body that has arrived whole be allocated once.
func streamQueued(r io.Reader) int {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var q struct { // one variable, so the closure costs one allocation
		n     int32
		errno syscall.Errno
	}
	err = rc.Control(func(fd uintptr) {
		_, _, q.errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&q.n)))
	})
	if err != nil || q.errno != 0 || q.n < 0 {
		return 0
	}
	return int(q.n)
}
