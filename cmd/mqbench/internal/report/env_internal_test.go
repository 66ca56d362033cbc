package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUModel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpuinfo")
	require.NoError(t, os.WriteFile(p, []byte("processor\t: 0\nvendor_id\t: X\nmodel name\t: Example CPU @ 3.00GHz\nflags\t: a b\n"), 0o600))
	assert.Equal(t, "Example CPU @ 3.00GHz", cpuModel(p))
	require.NoError(t, os.WriteFile(p, []byte("processor\t: 0\n"), 0o600))
	assert.Equal(t, "unknown", cpuModel(p))
	assert.Equal(t, "unknown", cpuModel(filepath.Join(t.TempDir(), "missing")))
}

func TestEnvironment(t *testing.T) {
	e := Environment()
	assert.NotEmpty(t, e.GoVersion)
	assert.Positive(t, e.NumCPU)
	assert.Positive(t, e.GOMAXPROCS)
	assert.NotEmpty(t, e.Commit)
	assert.Equal(t, "abcdef012345", short("abcdef0123456789"))
}

func TestGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	_, _, ok := gitRevision(dir)
	assert.False(t, ok, "not a git tree")
	git("init", "-q")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n"), 0o600))
	git("add", "go.mod")
	git("commit", "-q", "-m", "x")
	_, _, ok = gitRevision(dir)
	assert.False(t, ok, "a git tree, but not brook's")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/brookmq/brook\n"), 0o600))
	rev, dirty, ok := gitRevision(dir)
	require.True(t, ok)
	assert.Len(t, rev, 12)
	assert.True(t, dirty, "go.mod differs from the commit")
	git("commit", "-q", "-am", "y")
	_, dirty, ok = gitRevision(dir)
	require.True(t, ok)
	assert.False(t, dirty)
}

func TestProgressLine(t *testing.T) {
	var p workload.Progress
	p.Total.Store(200)
	p.Done.Store(50)
	line := progressLine(&p, "brook", time.Now())
	assert.Contains(t, line, "brook size#1 [=======                       ]  25% 50 msgs")

	now := time.Now()
	p.Begin.Store(now.Add(-time.Second).UnixNano())
	p.Deadline.Store(now.Add(time.Second).UnixNano())
	p.Phase.Store(2)
	assert.Contains(t, progressLine(&p, "x", now), "x size#3 [===============               ]  50%")
	assert.Contains(t, progressLine(&p, "x", now.Add(time.Hour)), "100%")
}
