package zmtp

import (
	"fmt"
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// unixPeerCredentials returns the credentials of the process at the other
// end of a unix socket as ":uid:gid:pid", the address libzmq gives ZAP
// for ipc peers; "" if they cannot be read.
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
	return fmt.Sprintf(":%d:%d:%d", cred.Uid, cred.Gid, cred.Pid)
}
