package durable

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Open flags, named once so the FS interface stays os-compatible.
const (
	osRDONLY = os.O_RDONLY
	osWRONLY = os.O_WRONLY
	osRDWR   = os.O_RDWR
	osCREATE = os.O_CREATE
	osTRUNC  = os.O_TRUNC
	osEXCL   = os.O_EXCL
)

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
