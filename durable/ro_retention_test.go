package durable

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// afterListFS wraps an FS and runs after once, right after the first
// ReadDir of dir has returned its listing.
type afterListFS struct {
	FS
	dir   string
	once  sync.Once
	after func()
}

func (a *afterListFS) ReadDir(name string) ([]string, error) {
	names, err := a.FS.ReadDir(name)
	if filepath.Clean(name) == a.dir {
		a.once.Do(a.after)
	}
	return names, err
}

// A read-only Open (mqjournal stat, dump, verify) races with the writer's
// retention: oldest segments deleted between the listing and their opening
// are skipped, never an error. Retention is simulated by deleting the first
// segment right after the listing.
func TestReadOnlyOpenDuringRetention(t *testing.T) {
	for _, del := range []int{1, 2} {
		mfs, opts := multiSegment(t, 200)
		l := openT(t, imgDir, opts...)
		segs := l.Stats().Segments
		require.NoError(t, l.Close())
		require.Greater(t, len(segs), del+1)
		fsys := &afterListFS{FS: mfs, dir: imgDir, after: func() {
			for _, s := range segs[:del] {
				require.NoError(t, mfs.Remove(segPath(s.Base)))
				require.NoError(t, mfs.Remove(filepath.Join(imgDir, idxName(s.Base))))
			}
		}}
		ro, err := Open(imgDir, WithFS(fsys), ReadOnly())
		require.NoError(t, err, "%d segments deleted", del)
		assert.Equal(t, segs[del].Base, ro.First())
		assert.Equal(t, uint64(200), ro.End())
		recs := readAll(t, ro, ro.First())
		require.Len(t, recs, 200-int(segs[del].Base))
		require.NoError(t, ro.Close())
	}
}
