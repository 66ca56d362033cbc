// Package compare runs one workload on brook and other implementations,
// interleaved over several rounds so that a machine's drift and noise
// hit every implementation alike, and condenses each figure into a
// median with its range and the ratio brook/other.
package compare

import (
	"context"
	"errors"
	"fmt"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// Comparison is the outcome of mqbench compare.
type Comparison struct {
	Rounds int `json:"rounds"`
	// Latency is what the latency rows measure: "round-trip", or
	// "one-way" for one-way throughput runs (closed loop, that is mostly
	// time spent queued).
	Latency string   `json:"latency_kind"`
	Impls   []string `json:"impls"`
	// Skipped names implementations left out, with the reason.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Tables has one table per message size.
	Tables []Table `json:"tables"`
	// Runs holds every run's results, in the order they ran.
	Runs []Run `json:"runs"`
}

// Run is one implementation's run in one round.
type Run struct {
	Round   int               `json:"round"`
	Impl    string            `json:"impl"`
	Results []workload.Result `json:"results"`
	Error   string            `json:"error,omitempty"`
}

// Options are compare's knobs beyond the configuration.
type Options struct {
	// Progress is updated during each run.
	Progress *workload.Progress
	// OnRun is called before each run.
	OnRun func(round int, impl string)
}

// Execute runs cfg on every implementation of impls (brook first) for
// cfg.Rounds rounds, rotating their order each round. An implementation
// that cannot run the workload is skipped with its reason. Failed runs
// are left out of the figures and joined into the returned error.
func Execute(ctx context.Context, cfg *config.Config, impls []impl.Impl, o Options) (*Comparison, error) {
	c := &Comparison{Rounds: cfg.Rounds, Skipped: map[string]string{}, Latency: "round-trip"}
	if !cfg.RoundTrip() {
		c.Latency = "one-way"
	}
	var runnable []impl.Impl
	for _, im := range impls {
		if err := im.Check(cfg); err != nil {
			c.Skipped[im.Name()] = err.Error()
			continue
		}
		runnable = append(runnable, im)
		c.Impls = append(c.Impls, im.Name())
	}
	if len(runnable) < 2 || runnable[0].Name() != config.ImplBrook {
		return c, fmt.Errorf("%w: compare needs brook and another implementation that can run this workload (skipped: %v)", impl.ErrUnsupported, c.Skipped)
	}
	var errs []error
	for round := 1; round <= cfg.Rounds; round++ {
		for i := range runnable {
			im := runnable[(i+round-1)%len(runnable)]
			if ctx.Err() != nil {
				return c, errors.Join(append(errs, ctx.Err())...)
			}
			if o.OnRun != nil {
				o.OnRun(round, im.Name())
			}
			res, err := workload.Run(ctx, cfg, im, workload.Options{Progress: o.Progress})
			run := Run{Round: round, Impl: im.Name(), Results: res}
			if err != nil {
				run.Error = err.Error()
				errs = append(errs, fmt.Errorf("%s, round %d: %w", im.Name(), round, err))
			}
			c.Runs = append(c.Runs, run)
		}
	}
	c.Tables = summarize(cfg, c.Impls, c.Runs)
	return c, errors.Join(errs...)
}
