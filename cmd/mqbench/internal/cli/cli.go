// Package cli is mqbench's command line: it parses the arguments, runs
// thr, lat, compare or journal, and writes the reports. main only wires it to the
// process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// Exit codes.
const (
	// ExitOK: the run went through and lost nothing it should not have.
	ExitOK = 0
	// ExitError: the run failed (an error from a socket, a timeout, an
	// output file that could not be written).
	ExitError = 1
	// ExitUsage: the command line is wrong, or asks for something this
	// build cannot do.
	ExitUsage = 2
	// ExitLoss: the run completed but a pattern that must not lose
	// messages lost some.
	ExitLoss = 3
)

// IO is where mqbench writes.
type IO struct {
	Stdout, Stderr io.Writer
	// StdoutIsTerminal turns the progress bar on.
	StdoutIsTerminal bool
}

// Main runs mqbench with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, out IO) int {
	cfg, err := config.Parse(args)
	switch {
	case errors.Is(err, config.ErrJournalHelp):
		config.JournalUsage(out.Stdout)
		return ExitOK
	case errors.Is(err, config.ErrHelp):
		config.Usage(out.Stdout)
		return ExitOK
	case err != nil:
		fmt.Fprintf(out.Stderr, "%v\nrun `mqbench -h` for help\n", err)
		return ExitUsage
	}
	if cfg.Command != "journal" {
		stopProfile, err := startProfile(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintln(out.Stderr, err)
			return ExitUsage
		}
		defer stopProfile()
	}
	switch cfg.Command {
	case "compare":
		return runCompare(ctx, cfg, out)
	case "journal":
		return runJournal(ctx, cfg, out)
	}
	im, err := impl.New(cfg.Impl)
	if err != nil {
		fmt.Fprintln(out.Stderr, err)
		return ExitUsage
	}
	if err := im.Check(cfg); err != nil {
		fmt.Fprintln(out.Stderr, err)
		return ExitUsage
	}
	return runOne(ctx, cfg, im, out)
}

// textWriter is where the human report goes: stdout, unless JSON or CSV
// are written there.
func textWriter(cfg *config.Config, out IO) io.Writer {
	if cfg.JSON == "-" || cfg.CSV == "-" {
		return out.Stderr
	}
	return out.Stdout
}

// showProgress reports whether the progress bar is drawn: only when
// stdout is a terminal that carries the text report.
func showProgress(cfg *config.Config, out IO) bool {
	return out.StdoutIsTerminal && textWriter(cfg, out) == out.Stdout
}

// exitCode maps a run's error to the exit code, reporting it.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	if errors.Is(err, impl.ErrNotReady) || errors.Is(err, impl.ErrUnsupported) || errors.Is(err, impl.ErrUnavailable) {
		return ExitUsage
	}
	return ExitError
}
