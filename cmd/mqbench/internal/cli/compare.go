package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/report"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// defaultCompareOrder is compare's implementation order when --impls is
// not given: brook, then the C library, then the Go one, then the
// ceiling.
func defaultCompareOrder() []string {
	return []string{config.ImplBrook, config.ImplLibzmq, config.ImplZmq4, config.ImplRaw}
}

// runCompare runs mqbench compare.
func runCompare(ctx context.Context, cfg *config.Config, out IO) int {
	names := cfg.Impls
	if len(names) == 0 {
		avail := impl.Available()
		for _, n := range defaultCompareOrder() {
			if slices.Contains(avail, n) {
				names = append(names, n)
			}
		}
	}
	var ims []impl.Impl
	var versions []string
	for _, n := range names {
		im, err := impl.New(n)
		if err != nil {
			fmt.Fprintln(out.Stderr, err)
			return ExitUsage
		}
		ims = append(ims, im)
		versions = append(versions, im.Version())
	}
	env := report.Environment()
	text := textWriter(cfg, out)
	report.Banner(text, cfg, env, versions)
	opts := compare.Options{}
	stop := func() {}
	if showProgress(cfg, out) {
		opts.Progress = &workload.Progress{}
		opts.OnRun = func(round int, name string) {
			stop()
			stop = report.StartProgress(out.Stdout, opts.Progress, fmt.Sprintf("round %d/%d %s", round, cfg.Rounds, name))
		}
	}
	c, runErr := compare.Execute(ctx, cfg, ims, opts)
	stop()
	report.CompareTable(text, c)
	var all []workload.Result
	for _, r := range c.Runs {
		all = append(all, r.Results...)
	}
	doc := &report.Document{Command: cfg.Command, Config: report.Describe(cfg), Env: env, Results: all, Compare: c}
	if runErr != nil {
		doc.Error = runErr.Error()
	}
	outErr := writeOutputs(cfg, out, doc, all, 1)
	if outErr == nil && cfg.HGRM != "" {
		outErr = compareHGRM(cfg.HGRM, c)
	}
	if code := exitCode(out.Stderr, runErr); code != ExitOK {
		return code
	}
	if code := exitCode(out.Stderr, outErr); code != ExitOK {
		return code
	}
	return lossCode(out.Stderr, all)
}

// compareHGRM writes one histogram file per implementation, size and
// round.
func compareHGRM(path string, c *compare.Comparison) error {
	for _, run := range c.Runs {
		for i := range run.Results {
			p := report.HGRMPath(path, &run.Results[i], true, run.Round)
			if err := report.WriteHGRM(p, &run.Results[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
