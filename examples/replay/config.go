package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/examples/internal/childproc"
)

// config is one coordinator run.
type config struct {
	n, kills, publisherKills, commitEvery int
	rate                                  float64
	seed, segment                         int64
	timeout                               time.Duration
	spawn                                 childproc.Spawner
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.n, "n", 8000, "ticks the subscriber must have read before the run ends")
	fs.IntVar(&c.kills, "kills", 3, "times the subscriber is SIGKILLed and restarted")
	fs.IntVar(&c.publisherKills, "publisher-kills", 1, "times the publisher is SIGKILLed and restarted")
	fs.IntVar(&c.commitEvery, "commit-every", 100, "ticks between two commits of the subscriber's position")
	fs.Float64Var(&c.rate, "rate", 4000, "ticks per second")
	fs.Int64Var(&c.seed, "seed", 0, "seed of the random kill points (0: from the clock; the run prints it)")
	fs.Int64Var(&c.segment, "segment", durable.DefaultSegmentSize, "journal segment size in bytes: a publisher restarted after SIGKILL reads its active segment to the end (preallocated to this size) to find where the records stop")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q (roles are publisher and subscriber)", fs.Arg(0))
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return c, err
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return c, err
	}
	if c.seed == 0 {
		c.seed = time.Now().UnixNano()
	}
	return c, nil
}

func (c *config) validate() error {
	switch {
	case c.n < 10:
		return errors.New("-n must be at least 10")
	case c.kills < 0 || c.publisherKills < 0:
		return errors.New("-kills and -publisher-kills must not be negative")
	case c.commitEvery < 1:
		return errors.New("-commit-every must be at least 1")
	case c.rate <= 0:
		return errors.New("-rate must be positive: a ticker ticks")
	case c.segment < 4096:
		return errors.New("-segment must be at least 4096 bytes")
	case c.timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}
