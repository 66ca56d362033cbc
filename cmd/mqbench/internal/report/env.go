// Package report writes mqbench's results: the banner describing the
// configuration and the machine, human-readable text, JSON, CSV and
// HdrHistogram percentile files, the compare table, and a progress bar
// for terminals.
package report

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Env describes where a run happened.
type Env struct {
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPU        string `json:"cpu"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// Commit is the brook revision the binary was built from ("unknown"
	// when neither the build info nor git knows); Dirty says the tree had
	// uncommitted changes.
	Commit string    `json:"commit"`
	Dirty  bool      `json:"dirty"`
	Start  time.Time `json:"start"`
}

// Environment collects the Env of this process.
func Environment() Env {
	e := Env{
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPU:        cpuModel("/proc/cpuinfo"),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Start:      time.Now().UTC(),
	}
	e.Commit, e.Dirty = commit()
	return e
}

// cpuModel reads the first "model name" of a /proc/cpuinfo file.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "unknown"
}

// commit returns the VCS revision from the build info, or, when the
// build recorded none (go run, go test, -buildvcs=false), from `git
// rev-parse` in the brook tree this file was compiled from, or in the
// working directory if that is a brook tree.
func commit() (string, bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev string
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			return short(rev), dirty
		}
	}
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok {
		dirs = append(dirs, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	for _, dir := range dirs {
		if rev, dirty, ok := gitRevision(dir); ok {
			return rev, dirty
		}
	}
	return "unknown", false
}

// gitRevision asks git for the revision of the brook tree holding dir.
func gitRevision(dir string) (string, bool, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	git := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return "", false, false
	}
	mod, err := os.ReadFile(filepath.Join(top, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module github.com/brookmq/brook\n") {
		return "", false, false
	}
	rev, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", false, false
	}
	st, err := git("status", "--porcelain", "--untracked-files=no")
	return short(rev), err == nil && st != "", true
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
