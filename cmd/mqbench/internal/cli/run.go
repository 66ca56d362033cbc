package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
	"github.com/brookmq/brook/cmd/mqbench/internal/report"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// runOne runs thr or lat on one implementation.
func runOne(ctx context.Context, cfg *config.Config, im impl.Impl, out IO) int {
	env := report.Environment()
	text := textWriter(cfg, out)
	report.Banner(text, cfg, env, []string{im.Version()})
	opts := workload.Options{OnListening: func(ep, ret string) { listening(out.Stderr, cfg, ep, ret) }}
	stop := func() {}
	if showProgress(cfg, out) {
		opts.Progress = &workload.Progress{}
		stop = report.StartProgress(out.Stdout, opts.Progress, im.Name())
	}
	results, runErr := workload.Run(ctx, cfg, im, opts)
	stop()
	for i := range results {
		report.Text(text, &results[i])
	}
	doc := &report.Document{Command: cfg.Command, Config: report.Describe(cfg), Env: env, Results: results}
	if runErr != nil {
		doc.Error = runErr.Error()
	}
	outErr := writeOutputs(cfg, out, doc, results, 0)
	if code := exitCode(out.Stderr, runErr); code != ExitOK {
		return code
	}
	if code := exitCode(out.Stderr, outErr); code != ExitOK {
		return code
	}
	return lossCode(out.Stderr, results)
}

// listening tells the user how to start the remote side.
func listening(w io.Writer, cfg *config.Config, ep, ret string) {
	line := "mqbench: listening on " + ep
	flags := "--endpoint " + ep
	if ret != "" {
		line += " return " + ret
		flags += " --return-endpoint " + ret
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "mqbench: start the other side with: mqbench %s --role remote %s (and the same workload flags)\n", cfg.Command, flags)
}

// writeOutputs writes the JSON, CSV, report and hgrm outputs cfg asks
// for.
func writeOutputs(cfg *config.Config, out IO, doc *report.Document, results []workload.Result, round int) error {
	if cfg.JSON != "" {
		if err := toFile(cfg.JSON, out.Stdout, func(w io.Writer) error { return report.JSON(w, doc) }); err != nil {
			return err
		}
	}
	if cfg.CSV != "" {
		if err := toFile(cfg.CSV, out.Stdout, func(w io.Writer) error { return report.CSV(w, results) }); err != nil {
			return err
		}
	}
	if cfg.Report != "" {
		if err := report.WritePicture(cfg.Report, doc); err != nil {
			return err
		}
	}
	if cfg.HGRM != "" && round == 0 {
		for i := range results {
			path := report.HGRMPath(cfg.HGRM, &results[i], len(results) > 1, 0)
			if err := report.WriteHGRM(path, &results[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// toFile runs write on stdout for "-", else on a new file at path.
func toFile(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// lossCode returns ExitLoss, with a message, when a pattern that never
// drops lost messages. PUB drops at its high-water mark by design: its
// loss is reported but not an error.
func lossCode(stderr io.Writer, results []workload.Result) int {
	var bad []string
	for _, r := range results {
		if r.Lost > 0 && r.Pattern != string(config.PubSub) {
			bad = append(bad, fmt.Sprintf("%s %s %d B: %d lost", r.Impl, r.Pattern, r.Size, r.Lost))
		}
	}
	for _, r := range results {
		if r.Lost > 0 && r.Pattern == string(config.PubSub) {
			fmt.Fprintf(stderr, "mqbench: note: %s PUB/SUB %d B lost %d messages: PUB drops at its high-water mark by design (raise --hwm or set --rate)\n", r.Impl, r.Size, r.Lost)
			break
		}
	}
	if len(bad) == 0 {
		return ExitOK
	}
	fmt.Fprintf(stderr, "mqbench: unexpected loss: %s\n", strings.Join(bad, "; "))
	return ExitLoss
}
