// Command service runs several instances of one small service as
// separate processes. Each instance knows the same list of endpoints: it
// serves requests on a ROUTER bound at its own entry, and sends its own
// jobs to every instance of the list (itself included) over a DEALER that
// load-balances across the connected ones. A job is answered with a
// digest of its payload; a job not answered in time is sent again, so work
// goes on while an instance restarts. Each instance serves Prometheus
// metrics (its sockets' Stats and its own counters) on a loopback port,
// and shuts down gracefully on SIGTERM: it stops making jobs, waits for
// the answers it is owed while still serving the others, then closes its
// sockets, whose linger delivers the replies still queued.
//
// Without arguments it is a demo: it starts the instances, restarts one
// gracefully (SIGTERM) and one by crashing it (SIGKILL), checks that work
// continues each time, and prints what every instance did.
//
//	go run ./examples/service                        # 3 instances over tcp
//	go run ./examples/service -hold 1m               # keep them up for a minute: open the metrics URLs
//	go run ./examples/service -curve                 # over CURVE, with an intruder whose key is not trusted
//
// One instance by hand (start the others the same way, with their -self):
//
//	go run ./examples/service instance -self 0 \
//	    -peers tcp://127.0.0.1:7001,tcp://127.0.0.1:7002,tcp://127.0.0.1:7003 \
//	    -metrics 127.0.0.1:9101
//
// A REQ peer can ask an instance too; brookcat is one:
//
//	echo hello | go run ./cmd/brookcat -n 1 REQ tcp://127.0.0.1:7001
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, spawner{}))
}

// mainCode runs the demo, or one instance when args start with
// "instance", and returns the exit code.
func mainCode(args []string, stdout, stderr io.Writer, sp spawner) int {
	if len(args) > 0 && args[0] == "instance" {
		err := instanceMain(args[1:], stdout, stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case err != nil:
			fmt.Fprintf(stderr, "service instance: %v\n", err)
			return 1
		}
		return 0
	}
	cfg, err := parseDemoFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if sp.exe == "" {
		if sp.exe, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "service: %v\n", err)
			return 1
		}
	}
	cfg.spawn = sp
	if err := runDemo(stdout, stderr, cfg); err != nil {
		fmt.Fprintf(stderr, "service: %v\n", err)
		return 1
	}
	return 0
}

// errUsage marks a bad command line (already reported).
var errUsage = errors.New("bad command line")
