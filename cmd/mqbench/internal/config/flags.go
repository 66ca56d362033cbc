package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrHelp is returned by Parse when -h or --help was given; the caller
// prints Usage and exits successfully.
var ErrHelp = errors.New("brook: mqbench: help requested")

// Default counts when neither --count nor --duration is given.
const (
	DefaultThroughputCount = 200_000
	DefaultLatencyCount    = 10_000
	// DefaultDealerInflight is the window of a dealerrouter throughput run.
	DefaultDealerInflight = 64
	// DefaultIdleTimeout ends a phase whose receiver hears nothing.
	DefaultIdleTimeout = 5 * time.Second
	// DefaultRounds is how many rounds compare runs.
	DefaultRounds = 3
	// DefaultCompareWarmup is compare's warmup per run.
	DefaultCompareWarmup = 200 * time.Millisecond
)

// raw holds flag values before validation.
type raw struct {
	mode, pattern, transport, endpoint, retEndpoint, sizes string
	count                                                  int64
	duration, warmup, timeout, idle                        time.Duration
	clients, inflight, hwm, subscribers, rounds            int
	rate                                                   float64
	role, impl, impls, json, csv, hgrm, pacer, report      string
	cpuprofile                                             string
	quic                                                   QUIC
	curve                                                  bool
}

// Parse parses a full mqbench command line (without the program name):
// a subcommand (thr, lat, compare) followed by its flags. Flags take one
// or two dashes. Every error matches ErrUsage (or is ErrHelp).
func Parse(args []string) (*Config, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: missing subcommand: thr, lat, compare or journal", ErrUsage)
	}
	cmd := args[0]
	switch cmd {
	case "thr", "lat", "compare":
	case "journal":
		return parseJournal(args[1:])
	case "-h", "--help", "help":
		return nil, ErrHelp
	default:
		return nil, fmt.Errorf("%w: unknown subcommand %q: want thr, lat, compare or journal", ErrUsage, cmd)
	}
	var r raw
	fs := newFlagSet(cmd, &r)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q (flags start with --)", ErrUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return build(cmd, &r, set)
}

// Usage writes the help text for every subcommand to w.
func Usage(w io.Writer) {
	fmt.Fprintln(w, `usage: mqbench thr|lat|compare [flags]
       mqbench journal [flags]

  thr      throughput: messages/s and MB/s (one-way patterns stream;
           reqrep/dealerrouter keep their in-flight window full)
  lat      latency: round trips, HdrHistogram percentiles in µs
  compare  the same workload on brook and the other implementations,
           interleaved over several rounds: median [min..max] and ratio
  journal  brook's journaled sockets beside their baselines (queue,
           replay, fanout; mqbench journal -h lists its own flags)

flags:`)
	var r raw
	fs := newFlagSet("compare", &r)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func newFlagSet(cmd string, r *raw) *flag.FlagSet {
	fs := flag.NewFlagSet("mqbench "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&r.pattern, "pattern", string(PushPull), "pushpull|pubsub|reqrep|dealerrouter|pair")
	fs.StringVar(&r.transport, "transport", "tcp", "tcp|ipc|inproc|quic|zstd+tcp")
	fs.StringVar(&r.endpoint, "endpoint", "", "endpoint URL to bind/connect (overrides --transport's default)")
	fs.StringVar(&r.retEndpoint, "return-endpoint", "", "return path for one-way latency and pubsub readiness (default: derived from --endpoint)")
	fs.StringVar(&r.sizes, "size", "64", `message size(s) in bytes: 64, a list "64,1024", a sweep "64..65536x4"`)
	fs.Int64Var(&r.count, "count", 0, fmt.Sprintf("measured messages per size, all clients together (default %d for thr, %d for lat)", DefaultThroughputCount, DefaultLatencyCount))
	fs.DurationVar(&r.duration, "duration", 0, "measure for this long per size instead of --count")
	fs.DurationVar(&r.warmup, "warmup", 0, "send discarded messages for this long before each size (compare: 200ms)")
	fs.IntVar(&r.clients, "clients", 1, "connecting clients (pushpull, reqrep, dealerrouter)")
	fs.IntVar(&r.inflight, "inflight", 0, "requests in flight per client (default 1; dealerrouter thr 64)")
	fs.IntVar(&r.hwm, "hwm", 0, "send and receive high-water mark (0: the implementation's default)")
	fs.IntVar(&r.subscribers, "subscribers", 1, "SUB sockets (pubsub)")
	fs.Float64Var(&r.rate, "rate", 0, "open-loop send rate, msgs/s in total; latency is measured from each message's intended send time (needs --count or --duration)")
	fs.StringVar(&r.pacer, "pacer", PacerSleep, "with --rate: sleep (cheap, ~1 ms timer resolution shows as send delay) or spin (busy-waits the last 2 ms: precise, costs a core)")
	fs.StringVar(&r.role, "role", string(Both), "both|local|remote: local binds (PULL/REP/ROUTER/PAIR, or PUB), remote connects")
	fs.StringVar(&r.impl, "impl", ImplBrook, "brook|zmq4|libzmq|raw")
	fs.StringVar(&r.json, "json", "", `write results as JSON to this file ("-": stdout)`)
	fs.StringVar(&r.csv, "csv", "", `write results as CSV to this file ("-": stdout)`)
	fs.StringVar(&r.hgrm, "hgrm", "", "write each latency histogram's percentile distribution (.hgrm) to this file")
	fs.StringVar(&r.cpuprofile, "cpuprofile", "", "write a CPU profile of this process's whole run to this file (go tool pprof); with --role, each process its own")
	fs.StringVar(&r.report, "report", "", "write a picture of the results to this .html or .svg file: latency percentile spectra (log scale) and, for compare, throughput bars")
	fs.DurationVar(&r.timeout, "timeout", 0, "abort the run after this long (default: 10m, or the planned time plus 1m)")
	fs.DurationVar(&r.idle, "idle-timeout", DefaultIdleTimeout, "end a phase whose receiver hears nothing for this long (counted as loss)")
	addQUICFlags(fs, &r.quic)
	fs.BoolVar(&r.curve, "curve", false, "CURVE encryption and authentication on every socket (tcp and ipc; brook and libzmq): the binding side is the server")
	if cmd == "compare" {
		fs.StringVar(&r.mode, "mode", string(Throughput), "compare: thr|lat")
		fs.StringVar(&r.impls, "impls", "", "compare: implementations, brook first (default: brook, libzmq when built with -tags libzmq, zmq4, raw where it applies)")
		fs.IntVar(&r.rounds, "rounds", DefaultRounds, "compare: interleaved rounds")
	}
	return fs
}

// build turns flag values into a Config and validates it.
func build(cmd string, r *raw, set map[string]bool) (*Config, error) {
	c := &Config{
		Command:        cmd,
		Mode:           Mode(cmd),
		Pattern:        Pattern(strings.ToLower(r.pattern)),
		Transport:      strings.ToLower(r.transport),
		Endpoint:       r.endpoint,
		ReturnEndpoint: r.retEndpoint,
		Count:          r.count,
		Duration:       r.duration,
		Warmup:         r.warmup,
		Clients:        r.clients,
		Inflight:       r.inflight,
		HWM:            r.hwm,
		Subscribers:    r.subscribers,
		Rate:           r.rate,
		Pacer:          strings.ToLower(r.pacer),
		Role:           Role(strings.ToLower(r.role)),
		Impl:           strings.ToLower(r.impl),
		Rounds:         r.rounds,
		JSON:           r.json,
		CSV:            r.csv,
		HGRM:           r.hgrm,
		Report:         r.report,
		CPUProfile:     r.cpuprofile,
		Timeout:        r.timeout,
		IdleTimeout:    r.idle,
		QUIC:           r.quic,
		Curve:          r.curve,
	}
	if cmd == "compare" {
		c.Mode = Mode(strings.ToLower(r.mode))
		if !set["warmup"] {
			c.Warmup = DefaultCompareWarmup
		}
		if r.impls != "" {
			for _, name := range strings.Split(r.impls, ",") {
				c.Impls = append(c.Impls, strings.ToLower(strings.TrimSpace(name)))
			}
		}
	}
	sizes, err := ParseSizes(r.sizes)
	if err != nil {
		return nil, err
	}
	c.Sizes = sizes
	if err := c.validate(set); err != nil {
		return nil, err
	}
	c.applyDefaults(set)
	return c, nil
}
