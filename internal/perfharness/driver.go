package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// impl is one implementation the driver runs: its name and the command
// line that takes "MODE local|remote ENDPOINT SIZE COUNT".
type impl struct {
	name string
	cmd  []string
}

// driver runs measurements in interleaved rounds.
type driver struct {
	mode   string
	rounds int
	count  int
	bytes  int64
	peer   []string
	port   int
	impls  []impl
	// verbose prints each run's result as it comes, so that ratios can
	// be read round by round (the summary gives medians and ranges only).
	verbose bool
	// results[size][impl][metric] holds one value per round.
	results map[int]map[string]map[string][]float64
	metrics []string // in order of first appearance
}

func runDriver(args []string) int {
	fs := flag.NewFlagSet("perfharness run", flag.ExitOnError)
	d := &driver{results: map[int]map[string]map[string][]float64{}}
	fs.StringVar(&d.mode, "mode", "thr", "thr|lat|conns")
	fs.IntVar(&d.rounds, "rounds", 5, "interleaved rounds")
	fs.IntVar(&d.count, "count", 5_000_000, "messages (thr, lat) or connections (conns) per run")
	fs.Int64Var(&d.bytes, "bytes", 2<<30, "thr: at most this many payload bytes per run")
	sizes := fs.String("sizes", "16,256,1024,65536", "message sizes, comma-separated")
	peer := fs.String("peer", "", "command playing the remote side for every implementation")
	fs.IntVar(&d.port, "port", 21000, "first TCP port (each run takes the next)")
	fs.BoolVar(&d.verbose, "v", false, "print every run's result to stderr as it comes")
	_ = fs.Parse(args)
	d.peer = strings.Fields(*peer)
	for _, spec := range fs.Args() {
		name, cmd, ok := strings.Cut(spec, "=")
		if !ok || name == "" || len(strings.Fields(cmd)) == 0 {
			fmt.Fprintf(os.Stderr, "perfharness run: %q is not NAME=COMMAND\n", spec)
			return 2
		}
		d.impls = append(d.impls, impl{name: name, cmd: strings.Fields(cmd)})
	}
	if len(d.impls) == 0 {
		fmt.Fprintln(os.Stderr, "perfharness run: no implementation given")
		return 2
	}
	var sz []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintf(os.Stderr, "perfharness run: bad size %q\n", f)
			return 2
		}
		sz = append(sz, n)
	}
	for _, size := range sz {
		for round := range d.rounds {
			for k := range d.impls {
				im := d.impls[(k+round)%len(d.impls)]
				res, err := d.measure(im, size)
				if err != nil {
					fmt.Fprintf(os.Stderr, "perfharness run: %s, %d B, round %d: %v\n", im.name, size, round+1, err)
					return 1
				}
				d.record(size, im.name, res)
				if d.verbose {
					fmt.Fprintf(os.Stderr, "round %d, %d B, %s: %v\n", round+1, size, im.name, res)
				}
			}
		}
		d.print(size)
	}
	return 0
}

// countFor is the number of messages per run for a size.
func (d *driver) countFor(size int) int {
	if d.mode != "thr" || size == 0 {
		return d.count
	}
	return int(min(int64(d.count), max(d.bytes/int64(size), 1000)))
}

// measure runs one implementation once: the local side, then the remote
// side once the local one listens.
func (d *driver) measure(im impl, size int) (map[string]float64, error) {
	d.port++
	ep := fmt.Sprintf("tcp://127.0.0.1:%d", d.port)
	args := []string{d.mode, "", ep, strconv.Itoa(size), strconv.Itoa(d.countFor(size))}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	local := exec.CommandContext(ctx, im.cmd[0], append(im.cmd[1:], withRole(args, "local")...)...)
	remoteCmd := im.cmd
	if len(d.peer) > 0 {
		remoteCmd = d.peer
	}
	remote := exec.CommandContext(ctx, remoteCmd[0], append(remoteCmd[1:], withRole(args, "remote")...)...)
	local.Stderr, remote.Stderr = os.Stderr, os.Stderr
	lout, err := local.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := local.Start(); err != nil {
		return nil, err
	}
	lr := bufio.NewReader(lout)
	if err := waitListening(lr); err != nil {
		_ = local.Process.Kill()
		_ = local.Wait()
		return nil, fmt.Errorf("local side: %w", err)
	}
	rout, err := remote.Output()
	if err != nil {
		_ = local.Process.Kill()
		_ = local.Wait()
		return nil, fmt.Errorf("remote side: %w", err)
	}
	lrest, _ := io.ReadAll(lr)
	if err := local.Wait(); err != nil {
		return nil, fmt.Errorf("local side: %w", err)
	}
	res := map[string]float64{}
	parseResults(string(lrest), res)
	parseResults(string(rout), res)
	return res, nil
}

func withRole(args []string, role string) []string {
	a := slices.Clone(args)
	a[1] = role
	return a
}

func waitListening(r *bufio.Reader) error {
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == "LISTENING" {
			return nil
		}
		if err != nil {
			return errors.New("exited before listening")
		}
	}
}

// parseResults adds the key=value pairs of every RESULT line to res.
func parseResults(out string, res map[string]float64) {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT ")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(rest) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				res[k] = f
			}
		}
	}
}

func (d *driver) record(size int, name string, res map[string]float64) {
	if d.results[size] == nil {
		d.results[size] = map[string]map[string][]float64{}
	}
	if d.results[size][name] == nil {
		d.results[size][name] = map[string][]float64{}
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(d.metrics, k) {
			d.metrics = append(d.metrics, k)
		}
		d.results[size][name][k] = append(d.results[size][name][k], res[k])
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// print writes one size's table: median [min..max] per implementation,
// and the first implementation's median over each other's.
func (d *driver) print(size int) {
	fmt.Printf("\nmode %s, size %d B, %d messages or connections per run, %d rounds\n", d.mode, size, d.countFor(size), d.rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	first := d.impls[0].name
	for i, im := range d.impls {
		head = append(head, im.name)
		if i > 0 {
			head = append(head, first+"/"+im.name)
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, m := range d.metrics {
		row := []string{m}
		var base float64
		any := false
		for i, im := range d.impls {
			v := d.results[size][im.name][m]
			if len(v) == 0 {
				row = append(row, "-")
				if i > 0 {
					row = append(row, "-")
				}
				continue
			}
			any = true
			med := median(v)
			row = append(row, fmt.Sprintf("%.4g [%.4g..%.4g]", med, slices.Min(v), slices.Max(v)))
			if i == 0 {
				base = med
			} else if base != 0 && med != 0 {
				row = append(row, fmt.Sprintf("%.2f", base/med))
			} else {
				row = append(row, "-")
			}
		}
		if any {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	_ = tw.Flush()
}
