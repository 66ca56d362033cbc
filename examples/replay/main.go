// Command replay is a ticker that subscribers can leave and come back to:
// a publisher process with a journaled PUB publishes numbered ticks, and a
// subscriber process with a position store reads them, while the example
// SIGKILLs the subscriber (and the publisher) at random moments and starts
// them again. Each time the subscriber comes back it resumes after the
// last position it committed, and the example checks from the offsets and
// tick numbers it printed that nothing was skipped. Then a second
// subscriber starts from a point in time, with no stored position, and
// the example checks it began with the first tick published at or after
// that time.
//
//	go run ./examples/replay                                   # 8000 ticks, 3 subscriber kills, 1 publisher kill
//	go run ./examples/replay -n 20000 -kills 6 -publisher-kills 2 -commit-every 500
//	go run ./examples/replay -seed 42                          # repeat a run's kill points
//
// The publisher (socket.WithJournalDir, Group sync) journals every tick
// before subscribers see it; tick number i is the journal's offset i. The
// subscriber (socket.WithPositionStore, socket.WithStart(StartOldest()) for
// its first run) acknowledges each tick once it has printed it and commits
// its position every -commit-every ticks with CommitPositions. Killed, it
// loses its uncommitted progress, so it sees again the ticks it processed
// since its last commit (at least once) but never misses one.
//
// The processes are this same program, started as
//
//	replay publisher -journal DIR -endpoint EP [-rate R] [-segment BYTES]
//	replay subscriber -endpoint EP [-positions DIR] [-start oldest|live|offset:N|time:UNIXNANO] [-commit-every N]
//
// and talk to the coordinator in lines on their standard output.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/brookmq/brook/examples/internal/childproc"
)

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, childproc.Spawner{}))
}

// mainCode runs the coordinator, or a publisher or subscriber when args
// start with its role, and returns the exit code: 0 when every resumption
// was without a gap, 1 otherwise or on an error, 2 for bad flags.
func mainCode(args []string, stdout, stderr io.Writer, sp childproc.Spawner) int {
	if len(args) > 0 {
		var role func([]string, io.Writer) error
		switch args[0] {
		case "publisher":
			role = publisherMain
		case "subscriber":
			role = subscriberMain
		}
		if role != nil {
			if err := role(args[1:], stdout); err != nil {
				fmt.Fprintf(stderr, "replay %s: %v\n", args[0], err)
				return 1
			}
			return 0
		}
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if sp.Exe == "" {
		if sp.Exe, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return 1
		}
	}
	cfg.spawn = sp
	ok, err := run(stdout, stderr, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}
