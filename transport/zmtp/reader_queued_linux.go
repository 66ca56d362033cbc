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
// lets a body that has arrived whole be allocated once. A Conn asks
// through its inQueue, which costs no allocation.
func streamQueued(r io.Reader) int {
	var q inQueue
	return q.count(r)
}

// inQueue asks the kernel how many bytes wait on a stream's socket. It
// keeps the socket's RawConn and the callback it runs, both made on the
// first call, so that asking once per large body allocates nothing (a
// RawConn and a closure per call used to be two allocations a message).
// Only the reading goroutine uses a Conn's inQueue.
type inQueue struct {
	raw   syscall.RawConn
	none  bool // the stream is not a socket
	fn    func(fd uintptr)
	n     int32
	errno syscall.Errno
	asked int // system calls made, for tests
}

// ioctl is the callback of RawConn.Control, bound once as q.fn.
func (q *inQueue) ioctl(fd uintptr) {
	_, _, q.errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&q.n)))
}

// count returns the bytes the kernel holds for reading on r's socket, 0
// when r is not a socket or the count cannot be had.
func (q *inQueue) count(r io.Reader) int {
	if q.raw == nil {
		if q.none {
			return 0
		}
		sc, ok := r.(syscall.Conn)
		if !ok {
			q.none = true
			return 0
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			q.none = true
			return 0
		}
		q.raw, q.fn = raw, q.ioctl
	}
	q.n, q.errno = 0, 0
	q.asked++
	if err := q.raw.Control(q.fn); err != nil || q.errno != 0 || q.n < 0 {
		return 0
	}
	return int(q.n)
}
