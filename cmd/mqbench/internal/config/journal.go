package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brookmq/brook/durable"
)

// Workloads of mqbench journal.
const (
	// JournalQueue: a journaled PUSH, sending from one goroutine with
	// SendAsync, to a PULL that acknowledges, beside the bare journal's
	// append rates and an unjournaled PUSH.
	JournalQueue = "queue"
	// JournalReplay: a subscriber replaying a journaled PUB's history,
	// and one catching up from far behind while publishing goes on.
	JournalReplay = "replay"
	// JournalFanout: live fan-out of a PUB to several subscribers, with a
	// journal and without.
	JournalFanout = "fanout"
)

// JournalWorkloads lists the workloads of mqbench journal.
func JournalWorkloads() []string { return []string{JournalQueue, JournalReplay, JournalFanout} }

// Defaults of mqbench journal.
const (
	// DefaultJournalCount is the queue's and fan-out's message count.
	DefaultJournalCount = 200_000
	// DefaultReplayCount is how many messages the replay workload
	// publishes, replays, and puts the catching-up subscriber behind.
	DefaultReplayCount = 1_000_000
	// DefaultAppenders is the number of goroutines of the concurrent
	// Append baseline.
	DefaultAppenders = 256
	// DefaultLiveRate is the publish rate, msgs/s, while a subscriber
	// catches up.
	DefaultLiveRate = 10_000
	// JournalHeaderSize is the smallest message mqbench journal sends: a
	// sequence number and a send time.
	JournalHeaderSize = 16
)

// Journal is the part of Config that only mqbench journal has.
type Journal struct {
	// Workload is JournalQueue, JournalReplay or JournalFanout.
	Workload string
	// Dir is where the journals are made (in a new directory inside it,
	// removed afterwards); "" is the system's temporary directory.
	Dir string
	// Sync is the journals' sync mode.
	Sync durable.SyncMode
	// Appenders is the number of goroutines of the concurrent Append
	// baseline (queue).
	Appenders int
	// LiveRate is the publish rate while a subscriber catches up
	// (replay), msgs/s; 0 publishes nothing meanwhile.
	LiveRate float64
	// Rate, when positive, adds an open-loop run of the journaled queue
	// at that many msgs/s (queue), for latency below saturation.
	Rate float64
	// Fanout lists the subscriber counts of the fan-out workload.
	Fanout []int
	// CPUProfile is a file for a CPU profile of the run ("" none).
	CPUProfile string
}

// ErrJournalHelp is returned by Parse for mqbench journal -h; the caller
// prints JournalUsage. It matches ErrHelp.
var ErrJournalHelp = fmt.Errorf("%w: journal", ErrHelp)

// journalRaw holds mqbench journal's flag values before validation.
type journalRaw struct {
	workload, dir, sync, transport, sizes, fanout, json, cpuprofile string
	count                                                           int64
	appenders, hwm                                                  int
	liveRate, rate                                                  float64
	timeout                                                         time.Duration
}

func newJournalFlagSet(r *journalRaw) *flag.FlagSet {
	fs := flag.NewFlagSet("mqbench journal", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&r.workload, "workload", JournalQueue, "queue|replay|fanout")
	fs.StringVar(&r.dir, "journal", "", "directory to make the journals in, on the disk to measure (default: the system's temporary directory)")
	fs.StringVar(&r.sync, "sync", "group", "journal sync mode: group|always|none|interval:D (e.g. interval:10ms)")
	fs.StringVar(&r.transport, "transport", "tcp", "tcp|ipc|inproc")
	fs.StringVar(&r.sizes, "size", "", `message size(s) in bytes (default: 256 for queue, "64,1024" for replay and fanout)`)
	fs.Int64Var(&r.count, "count", 0, fmt.Sprintf("messages per measurement (default %d; replay %d, which is also how far behind the catching-up subscriber starts)", DefaultJournalCount, DefaultReplayCount))
	fs.IntVar(&r.appenders, "appenders", DefaultAppenders, "queue: goroutines of the concurrent journal Append baseline")
	fs.Float64Var(&r.rate, "rate", 0, "queue: also run the journaled PUSH open loop at this many msgs/s, for latency below saturation (0: closed loop only)")
	fs.Float64Var(&r.liveRate, "live-rate", DefaultLiveRate, "replay: msgs/s published while a subscriber catches up (0: none)")
	fs.StringVar(&r.fanout, "fanout", "1,10,100", "fanout: subscriber counts, one run each with and without a journal")
	fs.IntVar(&r.hwm, "hwm", 0, "send and receive high-water mark (0: brook's default)")
	fs.StringVar(&r.json, "json", "", `write results as JSON to this file ("-": stdout)`)
	fs.StringVar(&r.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	fs.DurationVar(&r.timeout, "timeout", 30*time.Minute, "abort the run after this long")
	return fs
}

// parseJournal parses mqbench journal's flags (after the subcommand).
func parseJournal(args []string) (*Config, error) {
	var r journalRaw
	fs := newJournalFlagSet(&r)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrJournalHelp
		}
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q (flags start with --)", ErrUsage, fs.Arg(0))
	}
	j := &Journal{Workload: strings.ToLower(r.workload), Dir: r.dir, Appenders: r.appenders, LiveRate: r.liveRate, Rate: r.rate, CPUProfile: r.cpuprofile}
	c := &Config{
		Command: "journal", Transport: strings.ToLower(r.transport), Count: r.count, HWM: r.hwm,
		JSON: r.json, Timeout: r.timeout, Role: Both, Impl: ImplBrook, Journal: j,
	}
	if err := j.validate(c, &r); err != nil {
		return nil, err
	}
	return c, nil
}

func (j *Journal) validate(c *Config, r *journalRaw) error {
	switch j.Workload {
	case JournalQueue, JournalReplay, JournalFanout:
	default:
		return usagef("unknown --workload %q: want one of %s", j.Workload, strings.Join(JournalWorkloads(), ", "))
	}
	sync, err := ParseSync(r.sync)
	if err != nil {
		return err
	}
	j.Sync = sync
	switch c.Transport {
	case "tcp", "ipc", "inproc":
	default:
		return usagef("--transport %q: mqbench journal runs over tcp, ipc or inproc", c.Transport)
	}
	if r.sizes == "" {
		r.sizes = "64,1024"
		if j.Workload == JournalQueue {
			r.sizes = "256"
		}
	}
	if c.Sizes, err = ParseSizes(r.sizes); err != nil {
		return err
	}
	for _, s := range c.Sizes {
		if s < JournalHeaderSize {
			return usagef("--size %d is below %d bytes: every message carries a sequence number and a send time", s, JournalHeaderSize)
		}
	}
	if c.Count < 0 {
		return usagef("--count %d: want a positive number of messages", c.Count)
	}
	if c.Count == 0 {
		c.Count = DefaultJournalCount
		if j.Workload == JournalReplay {
			c.Count = DefaultReplayCount
		}
	}
	if j.Appenders < 1 || j.Appenders > 4096 {
		return usagef("--appenders %d: want 1..4096", j.Appenders)
	}
	if j.LiveRate < 0 {
		return usagef("--live-rate %g: want msgs/s >= 0", j.LiveRate)
	}
	if j.Rate < 0 {
		return usagef("--rate %g: want msgs/s >= 0", j.Rate)
	}
	for _, item := range strings.Split(r.fanout, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(item), "%d", &n); err != nil || n < 1 || n > maxClients {
			return usagef("--fanout %q: want subscriber counts 1..%d, comma-separated", r.fanout, maxClients)
		}
		j.Fanout = append(j.Fanout, n)
	}
	if c.HWM < 0 {
		return usagef("--hwm %d: want >= 0", c.HWM)
	}
	if c.Timeout <= 0 {
		return usagef("--timeout %s: want > 0", c.Timeout)
	}
	return nil
}

// ParseSync parses a journal sync mode: group, always, none or
// interval:D (D at least durable.MinInterval).
func ParseSync(s string) (durable.SyncMode, error) {
	kind, arg, hasArg := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	switch {
	case kind == "group" && !hasArg:
		return durable.Group, nil
	case kind == "always" && !hasArg:
		return durable.Always, nil
	case kind == "none" && !hasArg:
		return durable.None, nil
	case kind == "interval" && hasArg:
		d, err := time.ParseDuration(arg)
		if err != nil || d < durable.MinInterval {
			return 0, usagef("--sync %q: want interval:D with D a duration of at least %s", s, durable.MinInterval)
		}
		return durable.Interval(d), nil
	}
	return 0, usagef("--sync %q: want group, always, none or interval:D", s)
}

// JournalUsage writes mqbench journal's help text to w.
func JournalUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: mqbench journal [flags]

  journaled sockets, each figure beside its baselines from the same run:
  queue   a journaled PUSH sending with SendAsync from one goroutine to a PULL
          that acknowledges (send-to-durable and send-to-ack latency), beside the
          bare journal (AppendAsync from one goroutine, Append from --appenders)
          and an unjournaled PUSH
  replay  a SUB replaying a journaled PUB's history from the page cache, beside
          a bare journal Reader; and a SUB catching up from --count behind while
          the PUB goes on publishing at --live-rate
  fanout  live PUB to each of --fanout subscriber counts, with a journal and without

flags:`)
	var r journalRaw
	fs := newJournalFlagSet(&r)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
