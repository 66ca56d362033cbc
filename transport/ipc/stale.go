package ipc

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procNetUnix lists the unix sockets of the system on Linux.
const procNetUnix = "/proc/net/unix"

// soAcceptCon is the kernel's flag for a listening unix socket in
// /proc/net/unix.
const soAcceptCon = 1 << 16

// removeStale removes the socket file at path if nothing listens on it.
// bindErr is the EADDRINUSE error of the bind attempt; the error returned
// explains why the file stays. It looks for a listener in /proc/net/unix
// first, and only connects to the socket to find out when that is not
// conclusive, because such a probe leaves a dead connection in a live
// listener's backlog.
func removeStale(path string, bindErr error) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w (and it is not a socket, so it is left alone)", bindErr)
	}
	if listed(path) {
		return fmt.Errorf("%w (a live process listens on it)", bindErr)
	}
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
		return fmt.Errorf("%w (a live process accepts connections on it)", bindErr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w (probing it: %v)", bindErr, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}

// listed reports whether /proc/net/unix shows a listening socket bound to
// path (as given, or as its absolute form). False means "not known to be
// live": the table may be missing, or the binder used another relative
// form of the path.
func listed(path string) bool {
	f, err := os.Open(procNetUnix)
	if err != nil {
		return false
	}
	defer f.Close()
	abs, _ := filepath.Abs(path)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		name := strings.Join(fields[7:], " ")
		if name != path && name != abs {
			continue
		}
		if flags, err := strconv.ParseUint(fields[3], 16, 32); err == nil && flags&soAcceptCon != 0 {
			return true
		}
	}
	return false
}
