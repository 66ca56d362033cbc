package zmtp

import (
	"fmt"
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// unixPeerCredentials returns the credentials of the process at the other
// end of a unix socket as "localhost:uid:gid:pid", the address libzmq
// 4.3 on Linux gives ZAP for ipc peers (glibc names a unix socket's host
// "localhost"); "" if they cannot be read.
func unixPeerCredentials(rw io.ReadWriteCloser) string {
	sc, ok := rw.(syscall.Conn)
	if !ok {
		return ""
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ""
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return ""
	}
	return fmt.Sprintf("localhost:%d:%d:%d", cred.Uid, cred.Gid, cred.Pid)
}
