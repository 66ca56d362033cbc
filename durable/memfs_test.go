package durable

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
)

// memFS is an in-memory FS that models what survives a crash: file data up to
// the last Sync, directory entries (files and subdirectories) as of the last
// SyncDir of their parent. Crash returns the state after a simulated power
// loss in which unsynced data was dropped, torn, reordered or holed (see
// crashContent). Faults can be injected per operation and the capacity
// bounded.
type memFS struct {
	mu       sync.Mutex
	dirs     map[string]*memDir
	locks    map[string]bool
	capacity int64 // 0: unlimited
	used     int64
	// prealloc enables the Allocator capability of its files (off by
	// default: a 64 MiB default segment would make every memory copy slow).
	prealloc bool
	// fault, if set, is consulted before each operation ("write", "sync",
	// "syncdir", "rename", "remove", "open") and its error returned.
	fault func(op, name string) error
}

type memDir struct {
	live, synced map[string]*memNode
	// liveDirs and syncedDirs are the subdirectories, as now and as of the
	// last SyncDir.
	liveDirs, syncedDirs map[string]bool
}

type memNode struct {
	data, synced []byte
}

func newMemFS() *memFS {
	return &memFS{dirs: map[string]*memDir{"/": newMemDir()}, locks: map[string]bool{}}
}

func newMemDir() *memDir {
	return &memDir{live: map[string]*memNode{}, synced: map[string]*memNode{},
		liveDirs: map[string]bool{}, syncedDirs: map[string]bool{}}
}

// mkdirLocked creates p and its missing parents; synced marks the new
// entries as already durable (for test images). (mu held)
func (m *memFS) mkdirLocked(p string, synced bool) {
	p = filepath.Clean(p)
	if _, ok := m.dirs[p]; ok || p == "/" || p == "." {
		return
	}
	parent := filepath.Dir(p)
	m.mkdirLocked(parent, synced)
	m.dirs[p] = newMemDir()
	pd := m.dirs[parent]
	pd.liveDirs[filepath.Base(p)] = true
	if synced {
		pd.syncedDirs[filepath.Base(p)] = true
	}
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) setFault(f func(op, name string) error) {
	m.mu.Lock()
	m.fault = f
	m.mu.Unlock()
}

func (m *memFS) check(op, name string) error {
	if m.fault != nil {
		return m.fault(op, name)
	}
	return nil
}

func (m *memFS) dir(name string) (*memDir, string, bool) {
	d, ok := m.dirs[filepath.Clean(filepath.Dir(name))]
	return d, filepath.Base(name), ok
}

func (m *memFS) OpenFile(name string, flag int, _ fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("open", name); err != nil {
		return nil, err
	}
	d, base, ok := m.dir(name)
	if !ok {
		return nil, notExist("open", name)
	}
	n, exists := d.live[base]
	switch {
	case exists && flag&osEXCL != 0 && flag&osCREATE != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !exists && flag&osCREATE == 0:
		return nil, notExist("open", name)
	case !exists:
		n = &memNode{}
		d.live[base] = n
	}
	if flag&osTRUNC != 0 {
		m.used -= int64(len(n.data))
		n.data = nil
	}
	return &memFile{fs: m, node: n, name: name}, nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("remove", name); err != nil {
		return err
	}
	d, base, ok := m.dir(name)
	if !ok {
		return notExist("remove", name)
	}
	n, ok := d.live[base]
	if !ok {
		return notExist("remove", name)
	}
	delete(d.live, base)
	m.used -= int64(len(n.data))
	return nil
}

func (m *memFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("rename", newname); err != nil {
		return err
	}
	od, ob, ok := m.dir(oldname)
	if !ok {
		return notExist("rename", oldname)
	}
	n, ok := od.live[ob]
	if !ok {
		return notExist("rename", oldname)
	}
	nd, nb, ok := m.dir(newname)
	if !ok {
		return notExist("rename", newname)
	}
	if old, ok := nd.live[nb]; ok {
		m.used -= int64(len(old.data))
	}
	delete(od.live, ob)
	nd.live[nb] = n
	return nil
}

func (m *memFS) MkdirAll(name string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("mkdir", name); err != nil {
		return err
	}
	m.mkdirLocked(name, false)
	return nil
}

func (m *memFS) ReadDir(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	d, ok := m.dirs[name]
	if !ok {
		return nil, notExist("readdir", name)
	}
	var names []string
	for n := range d.live {
		names = append(names, n)
	}
	for p := range m.dirs {
		if p != name && filepath.Dir(p) == name {
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (m *memFS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("syncdir", name); err != nil {
		return err
	}
	d, ok := m.dirs[filepath.Clean(name)]
	if !ok {
		return notExist("syncdir", name)
	}
	d.synced = make(map[string]*memNode, len(d.live))
	for k, v := range d.live {
		d.synced[k] = v
	}
	d.syncedDirs = make(map[string]bool, len(d.liveDirs))
	for k := range d.liveDirs {
		d.syncedDirs[k] = true
	}
	return nil
}

type memLock struct {
	fs   *memFS
	name string
}

func (l memLock) Close() error {
	l.fs.mu.Lock()
	delete(l.fs.locks, l.name)
	l.fs.mu.Unlock()
	return nil
}

func (m *memFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, ErrLocked
	}
	m.locks[name] = true
	return memLock{m, name}, nil
}

func (m *memFS) FreeSpace(string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.capacity == 0 {
		return 1 << 40, nil
	}
	return uint64(max(0, m.capacity-m.used)), nil
}

// crash returns the file system as it would be found after a power loss now:
// a directory exists if its entry in its parent was synced, holds the file
// entries of its last SyncDir, and each file holds crashContent.
func (m *memFS) crash(rng *rand.Rand) *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.crashLocked(rng)
}

// crashLocked is crash with mu held (from a fault hook, in the middle of
// an operation).
func (m *memFS) crashLocked(rng *rand.Rand) *memFS {
	out := newMemFS()
	copies := map[*memNode]*memNode{}
	paths := make([]string, 0, len(m.dirs))
	for p := range m.dirs {
		paths = append(paths, p)
	}
	// Parents before children, in a fixed order for reproducible seeds.
	sort.Slice(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) < len(paths[j])
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		d := m.dirs[p]
		if p != "/" {
			parent, ok := out.dirs[filepath.Dir(p)]
			if !ok || !m.dirs[filepath.Dir(p)].syncedDirs[filepath.Base(p)] {
				continue // the directory's creation never reached the disk
			}
			parent.liveDirs[filepath.Base(p)] = true
			parent.syncedDirs[filepath.Base(p)] = true
		}
		nd := newMemDir()
		names := make([]string, 0, len(d.synced))
		for name := range d.synced {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			n := d.synced[name]
			c, ok := copies[n]
			if !ok {
				c = &memNode{data: crashContent(n, rng)}
				c.synced = bytes.Clone(c.data)
				copies[n] = c
				out.used += int64(len(c.data))
			}
			nd.live[name], nd.synced[name] = c, c
		}
		out.dirs[p] = nd
	}
	return out
}

// Crash model granularity: the kernel writes back whole pages, in any order;
// a device may persist a page partly, a sector at a time.
const (
	crashPage   = 4096
	crashSector = 512
)

// crashContent is what a power loss leaves of a file: every byte fsynced
// is kept; every byte written since may or may not have reached the disk,
// page by page in any order (a prefix, random pages, or random sectors), so
// unsynced regions can come back as holes (zeros, or the old content) with
// later pages present. The size is the synced one, the current one or
// anything between. Sometimes a sector of the unsynced region holds garbage.
func crashContent(n *memNode, rng *rand.Rand) []byte {
	old, cur := n.synced, n.data
	if bytes.Equal(old, cur) {
		return bytes.Clone(old)
	}
	lo, hi := min(len(old), len(cur)), max(len(old), len(cur))
	var size int
	switch rng.IntN(4) {
	case 0:
		size = len(old)
	case 1, 2:
		size = len(cur)
	default:
		size = lo + rng.IntN(hi-lo+1)
	}
	// first is the first byte that differs: everything before it is the
	// same in both versions.
	first := 0
	for first < lo && old[first] == cur[first] {
		first++
	}
	byteAt := func(src []byte, i int) byte {
		if i < len(src) {
			return src[i]
		}
		return 0
	}
	out := make([]byte, size)
	copy(out, cur[:min(first, size)])
	unit, prefix := crashPage, -1
	switch rng.IntN(3) {
	case 0: // a prefix of the new pages reached the disk
		prefix = first + rng.IntN(size-first+1)
	case 2:
		unit = crashSector
	}
	for start := first - first%unit; start < size; start += unit {
		useNew := rng.IntN(2) == 0
		for i := max(start, first); i < min(start+unit, size); i++ {
			if prefix >= 0 {
				useNew = i < prefix
			}
			if useNew {
				out[i] = byteAt(cur, i)
			} else {
				out[i] = byteAt(old, i)
			}
		}
	}
	if size > first && rng.IntN(4) == 0 {
		at := first + rng.IntN(size-first)
		for i := at; i < min(at+crashSector, size); i++ {
			out[i] = byte(rng.Uint32())
		}
	}
	return out
}

type memFile struct {
	fs   *memFS
	node *memNode
	name string
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.check("write", f.name); err != nil {
		return 0, err
	}
	var err error
	n := len(p)
	if c := f.fs.capacity; c > 0 {
		room := int64(len(f.node.data)) + (c - f.fs.used) - off
		if int64(n) > room {
			n = int(max(0, room))
			err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
		}
	}
	if end := off + int64(n); end > int64(len(f.node.data)) {
		f.fs.used += end - int64(len(f.node.data))
		f.node.data = append(f.node.data, make([]byte, end-int64(len(f.node.data)))...)
	}
	copy(f.node.data[off:], p[:n])
	return n, err
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.check("sync", f.name); err != nil {
		return err
	}
	f.node.synced = bytes.Clone(f.node.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if size < int64(len(f.node.data)) {
		f.fs.used -= int64(len(f.node.data)) - size
		f.node.data = f.node.data[:size]
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.node.data)), nil
}

func (f *memFile) Close() error { return nil }

// Allocate implements the optional preallocation capability: it extends the
// file with zeros to size (not synced until the next Sync).
func (f *memFile) Allocate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.fs.prealloc {
		return errors.ErrUnsupported
	}
	if err := f.fs.check("allocate", f.name); err != nil {
		return err
	}
	grow := size - int64(len(f.node.data))
	if grow <= 0 {
		return nil
	}
	if c := f.fs.capacity; c > 0 && f.fs.used+grow > c {
		return &fs.PathError{Op: "fallocate", Path: f.name, Err: syscall.ENOSPC}
	}
	f.fs.used += grow
	f.node.data = append(f.node.data, make([]byte, grow)...)
	return nil
}

// files returns a copy of every live file (path -> content), for images.
func (m *memFS) files() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for p, d := range m.dirs {
		for name, n := range d.live {
			out[filepath.Join(p, name)] = bytes.Clone(n.data)
		}
	}
	return out
}

// writeFile creates a file with content, synced.
func (m *memFS) writeFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mkdirLocked(filepath.Dir(name), true)
	d, base, _ := m.dir(name)
	n := &memNode{data: bytes.Clone(data), synced: bytes.Clone(data)}
	d.live[base], d.synced[base] = n, n
	m.used += int64(len(data))
}
