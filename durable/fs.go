package durable

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// FS is the small file-system interface the journal uses for every disk
// operation. The default is the operating system's; tests substitute a
// fault-injecting implementation (disk full, fsync errors, loss of data that
// was never synced). Implementations must be safe for concurrent use.
type FS interface {
	// OpenFile opens a file like os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Remove removes a file.
	Remove(name string) error
	// Rename renames a file, replacing newname atomically.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(name string, perm fs.FileMode) error
	// ReadDir returns the names in a directory, sorted.
	ReadDir(name string) ([]string, error)
	// SyncDir makes the directory's entries (creations, renames, removals)
	// durable.
	SyncDir(name string) error
	// Lock takes an exclusive, non-blocking lock on the named file, creating
	// it if needed. It returns an error matching ErrLocked if the lock is held.
	Lock(name string) (io.Closer, error)
	// FreeSpace returns the bytes available to the journal on the file system
	// holding dir.
	FreeSpace(dir string) (uint64, error)
}

// File is an open file of an FS. ReadAt may be called concurrently with
// WriteAt on other regions.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's data durable (fdatasync).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's size.
	Size() (int64, error)
}

// Allocator is an optional capability of a File, discovered by a type
// assertion: Allocate reserves disk space for the file up to size bytes and
// extends it with zeros to that size (fallocate(2) without
// FALLOC_FL_KEEP_SIZE). The journal preallocates each new segment so that an
// fdatasync after an append does not also have to commit a new file size.
// A File without it, or an Allocate that fails, only costs that speed.
type Allocator interface {
	Allocate(size int64) error
}

// cacheDropper is an optional capability of a File: dropCache asks the
// kernel to evict the file's clean cached pages in [off, off+n)
// (POSIX_FADV_DONTNEED). It is advice: nothing fails if it does nothing.
type cacheDropper interface {
	dropCache(off, n int64)
}

// osFS is the operating system's file system.
type osFS struct{}

type osFile struct{ f *os.File }

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(name string, perm fs.FileMode) error {
	return os.MkdirAll(name, perm)
}

func (osFS) ReadDir(name string) ([]string, error) {
	ents, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, &os.PathError{Op: "flock", Path: name, Err: err}
	}
	return f, nil
}

func (osFS) FreeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func (f osFile) ReadAt(p []byte, off int64) (int, error)  { return f.f.ReadAt(p, off) }
func (f osFile) WriteAt(p []byte, off int64) (int, error) { return f.f.WriteAt(p, off) }
func (f osFile) Close() error                             { return f.f.Close() }
func (f osFile) Truncate(size int64) error                { return f.f.Truncate(size) }

func (f osFile) Allocate(size int64) error {
	for {
		err := unix.Fallocate(int(f.f.Fd()), 0, 0, size)
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fallocate", Path: f.f.Name(), Err: err}
			}
			return nil
		}
	}
}

func (f osFile) dropCache(off, n int64) {
	_ = unix.Fadvise(int(f.f.Fd()), off, n, unix.FADV_DONTNEED)
}

func (f osFile) Sync() error {
	for {
		err := unix.Fdatasync(int(f.f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.f.Name(), Err: err}
			}
			return nil
		}
	}
}

func (f osFile) Size() (int64, error) {
	st, err := f.f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// OSFS returns the operating system's file system, the default. A
// fault-injecting FS can wrap it.
func OSFS() FS { return osFS{} }
