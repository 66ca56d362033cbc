// Command perfharness measures brook between two processes, the way
// libzmq's perf programs do, beside a bare Go TCP loop and libzmq from C
// (c/zmqperf.c, built with gcc), and runs them in interleaved rounds so
// every figure comes with its baselines from the same run.
//
// One side of one measurement:
//
//	perfharness [-impl brook|bare] [-hwm N] [-curve] [-keep] thr|lat|conns local|remote ENDPOINT SIZE COUNT
//
// The local side binds and prints LISTENING once peers may connect; both
// sides end with one line "RESULT key=value ...". thr streams COUNT
// messages PUSH to PULL (timed at the receiver, first to last arrival);
// lat times COUNT REQ/REP round trips at the REQ side; conns connects
// COUNT DEALERs to one echoing ROUTER and times one message per DEALER
// there and back, cold then warm, reporting the ROUTER's memory per
// connection and each side's CPU time over the warm round (warm_cpu_s,
// warm_cpu_s_peer), steadier than its wall-clock time on a shared machine;
// PERFHARNESS_WARMPROFILE and PERFHARNESS_WARMTRACE profile and trace
// the warm round alone (go tool trace -pprof=sync shows who waited on
// whom). zmqperf takes the same arguments. All three implementations
// report thr's CPU time per message on each side (cpu_us, cpu_us_sender:
// the whole process's user and system time over COUNT), steadier than
// throughput on a shared machine.
//
// With -curve (brook), or ZMQPERF_CURVE=1 in zmqperf's environment
// (NAME="env ZMQPERF_CURVE=1 zmqperf" in the driver), every socket
// speaks CURVE (RFC 26): the local side's sockets are servers, the
// remote side's clients, with fixed benchmark-only key pairs both
// programs share (internal/benchcurve), so brook and libzmq sides also mix.
//
// brook's receivers in thr and lat give each message back with Release
// once it is counted, so that its large buffers are reused, as libzmq's
// perf programs close theirs; -keep leaves them to the garbage
// collector instead, to compare.
//
// The driver:
//
//	perfharness run [-rounds N] [-mode thr] [-sizes 16,256] [-count N] [-bytes B] [-peer CMD] NAME=CMD...
//
// runs every NAME=CMD (a command line taking the arguments above) once
// per round in an order that rotates each round, and prints each metric
// as median [min..max] with the ratio of the first implementation to
// each other one. With -peer, CMD plays the local side only and the
// peer command the remote side (the same peer for every implementation).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "run" {
		os.Exit(runDriver(os.Args[2:]))
	}
	os.Exit(runSide(os.Args[1:]))
}

// runSide runs one side of one measurement and returns the exit code.
func runSide(argv []string) int {
	fs := flag.NewFlagSet("perfharness", flag.ExitOnError)
	impl := fs.String("impl", "brook", "brook|bare")
	hwm := fs.Int("hwm", 0, "brook: send and receive high-water mark (0: the default)")
	fresh := fs.Bool("fresh", false, "bare: receive each message into a fresh allocation")
	curveOn := fs.Bool("curve", false, "brook: CURVE on every socket (local side servers, remote side clients)")
	keep := fs.Bool("keep", false, "brook: keep received messages rather than Release them (thr and lat)")
	_ = fs.Parse(argv)
	args := fs.Args()
	if len(args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: perfharness [-impl brook|bare] [-hwm N] [-curve] [-keep] thr|lat|conns local|remote ENDPOINT SIZE COUNT")
		return 2
	}
	size, err1 := strconv.Atoi(args[3])
	count, err2 := strconv.Atoi(args[4])
	if err1 != nil || err2 != nil || size < 0 || count < 2 {
		fmt.Fprintln(os.Stderr, "perfharness: SIZE and COUNT must be numbers (COUNT >= 2)")
		return 2
	}
	s := side{mode: args[0], local: args[1] == "local", endpoint: args[2], size: size, count: count, hwm: *hwm, fresh: *fresh, curve: *curveOn, keep: *keep}
	if f := os.Getenv("PERFHARNESS_CPUPROFILE"); f != "" {
		stop, err := startProfile(f + "." + args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "perfharness:", err)
			return 1
		}
		defer stop()
	}
	if f := os.Getenv("PERFHARNESS_TRACE"); f != "" {
		stop, err := startTrace(f + "." + args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "perfharness:", err)
			return 1
		}
		defer stop()
	}
	if err := s.run(*impl); err != nil {
		fmt.Fprintln(os.Stderr, "perfharness:", err)
		return 1
	}
	return 0
}

// warmProfile writes a CPU profile of conns' warm round only, to the file
// PERFHARNESS_WARMPROFILE names, and an execution trace of it to the one
// PERFHARNESS_WARMTRACE names (each suffixed with the side's role), until
// the returned function is called. Without the variables it does nothing.
func warmProfile(role string) (func(), error) {
	stops := []func(){}
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	if f := os.Getenv("PERFHARNESS_WARMPROFILE"); f != "" {
		s, err := startProfile(f + "." + role)
		if err != nil {
			return nil, err
		}
		stops = append(stops, s)
	}
	if f := os.Getenv("PERFHARNESS_WARMTRACE"); f != "" {
		s, err := startTrace(f + "." + role)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, s)
	}
	return stop, nil
}

// startTrace writes an execution trace to file until the returned
// function is called (PERFHARNESS_TRACE names the file, suffixed with the
// side's role).
func startTrace(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		trace.Stop()
		f.Close()
	}, nil
}

// run runs the side on an implementation.
func (s side) run(impl string) error {
	switch impl {
	case "brook":
		return s.brook()
	case "bare":
		return s.bare()
	}
	return fmt.Errorf("unknown -impl %q", impl)
}

// startProfile writes a CPU profile to file until the returned function
// is called (PERFHARNESS_CPUPROFILE names the file, suffixed with the
// side's role).
func startProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// side is one process of one measurement.
type side struct {
	mode     string // thr, lat or conns
	local    bool
	endpoint string
	size     int
	count    int
	hwm      int
	fresh    bool // bare: allocate per received message
	curve    bool // brook: CURVE on every socket
	keep     bool // brook: never Release a received message
}

// listening tells the driver the local side is ready for its peer.
func listening() { fmt.Println("LISTENING") }
