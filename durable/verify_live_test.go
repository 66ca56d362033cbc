package durable

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookFS wraps an FS and calls onRead (outside any lock of the wrapped FS)
// before every ReadAt of a file, with the base name it was opened under
// without a ".tmp" suffix (files created by rename are known by their final
// name).
type hookFS struct {
	FS
	mu     sync.Mutex
	onRead func(name string)
}

type hookFile struct {
	File
	fs   *hookFS
	name string
}

func (h *hookFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := h.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, fs: h, name: strings.TrimSuffix(filepath.Base(name), tmpSuffix)}, nil
}

func (h *hookFS) setOnRead(f func(name string)) {
	h.mu.Lock()
	h.onRead = f
	h.mu.Unlock()
}

func (f *hookFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	hook := f.fs.onRead
	f.fs.mu.Unlock()
	if hook != nil {
		hook(f.name)
	}
	return f.File.ReadAt(p, off)
}

// Verify may run while appends continue: a segment that rolls while Verify
// is scanning it is not damage. The roll is forced in the middle of the scan
// of the active segment.
func TestVerifyWhileSegmentRolls(t *testing.T) {
	hfs := &hookFS{FS: newMemFS()}
	l := openT(t, imgDir, WithFS(hfs), WithSegmentSize(4096))
	defer func() { require.NoError(t, l.Close()) }()
	// A sealed segment and an active one holding a single record, with
	// room for more.
	n := 0
	for ; len(l.Stats().Segments) < 2; n++ {
		appendN(t, l, n, 1)
	}
	segs := l.Stats().Segments
	active := segName(segs[1].Base)
	var once sync.Once
	rolled := false
	next := n
	hfs.setOnRead(func(name string) {
		if name != active {
			return
		}
		once.Do(func() {
			// Append until the active segment is sealed by a roll.
			for len(l.Stats().Segments) == 2 {
				_, err := l.Append(context.Background(), payloadFor(next))
				require.NoError(t, err)
				next++
			}
			rolled = true
		})
	})
	rep, err := l.Verify(context.Background())
	hfs.setOnRead(nil)
	require.True(t, rolled, "the hook never ran")
	require.NoError(t, err)
	require.Greater(t, next, n+1, "records were appended to the segment being verified")
	assert.Equal(t, uint64(n), rep.End, "Verify covers the end it started with")
	assert.Equal(t, uint64(n), rep.Records)
	rep, err = l.Verify(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(next), rep.Records)
}
