package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/jbench"
	"github.com/brookmq/brook/cmd/mqbench/internal/report"
)

// journalDocument is mqbench journal's JSON output.
type journalDocument struct {
	Command string         `json:"command"`
	Env     report.Env     `json:"env"`
	Result  *jbench.Result `json:"result"`
	Error   string         `json:"error,omitempty"`
}

// runJournal runs mqbench journal.
func runJournal(ctx context.Context, cfg *config.Config, out IO) int {
	env := report.Environment()
	text := textWriter(cfg, out)
	dirty := ""
	if env.Dirty {
		dirty = " (modified)"
	}
	fmt.Fprintf(text, "mqbench journal  %s %s/%s  cpu: %s (%d threads)  GOMAXPROCS=%d  commit %s%s\n",
		env.GoVersion, env.OS, env.Arch, env.CPU, env.NumCPU, env.GOMAXPROCS, env.Commit, dirty)
	stopProfile, err := startProfile(cfg.Journal.CPUProfile)
	if err != nil {
		fmt.Fprintln(out.Stderr, err)
		return ExitError
	}
	res, runErr := jbench.Run(ctx, cfg)
	stopProfile()
	if res != nil {
		res.Text(text)
	}
	if cfg.JSON != "" {
		doc := &journalDocument{Command: "journal", Env: env, Result: res}
		if runErr != nil {
			doc.Error = runErr.Error()
		}
		if err := toFile(cfg.JSON, out.Stdout, func(w io.Writer) error { return writeJSON(w, doc) }); err != nil && runErr == nil {
			runErr = err
		}
	}
	if code := exitCode(out.Stderr, runErr); code != ExitOK {
		return code
	}
	if lost, where := res.Losses(); lost > 0 {
		fmt.Fprintf(out.Stderr, "mqbench: unexpected loss: %s\n", strings.Join(where, "; "))
		return ExitLoss
	}
	return ExitOK
}

// startProfile starts a CPU profile into path ("" none) and returns what
// stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeJSON writes v, indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("mqbench: write json: %w", err)
	}
	return nil
}
