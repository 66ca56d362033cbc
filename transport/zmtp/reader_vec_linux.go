//go:build linux

package zmtp

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// vecRead reads the rest of a large body and what follows it on the
// stream in one system call (readv): the body's bytes go straight into
// the body, the next header (and the start of the next body) into the
// small read buffer. Without it each large body costs one read more, for
// the header. It keeps the socket's RawConn and the callback it runs,
// made on first use, so reading allocates nothing. Only streams that are
// plainly sockets (*net.TCPConn, *net.UnixConn) are read this way: a
// wrapper's Read must not be bypassed. Only the reading goroutine uses a
// Conn's vecRead.
type vecRead struct {
	raw   syscall.RawConn
	none  bool // the stream is not read this way
	fn    func(fd uintptr) bool
	iov   [2]syscall.Iovec
	n     int
	errno syscall.Errno
}

// usable tells whether rw can be read with readv, taking its RawConn on
// the first call.
func (v *vecRead) usable(rw io.Reader) bool {
	if v.raw != nil {
		return true
	}
	if v.none {
		return false
	}
	var sc syscall.Conn
	switch s := rw.(type) {
	case *net.TCPConn:
		sc = s
	case *net.UnixConn:
		sc = s
	default:
		v.none = true
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		v.none = true
		return false
	}
	v.raw, v.fn = raw, v.readv
	return true
}

// readv is the callback of RawConn.Read, bound once as v.fn: one readv,
// retried on EINTR; false asks the poller to wait for input.
func (v *vecRead) readv(fd uintptr) bool {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&v.iov[0])), uintptr(len(v.iov)))
		switch e {
		case 0:
			v.n, v.errno = int(n), 0
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			v.n, v.errno = 0, e
			return true
		}
	}
}

// read reads into a and then b in one readv and returns how many bytes
// came: io.EOF when the stream has ended, the RawConn's error (closed,
// deadline) or the system call's otherwise. Both slices must be non-empty.
func (v *vecRead) read(a, b []byte) (int, error) {
	v.iov[0].Base, v.iov[1].Base = &a[0], &b[0]
	v.iov[0].SetLen(len(a))
	v.iov[1].SetLen(len(b))
	err := v.raw.Read(v.fn)
	n, errno := v.n, v.errno
	v.iov = [2]syscall.Iovec{} // keep no pointer to the body
	v.n, v.errno = 0, 0
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("readv", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
