package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/examples/internal/childproc"
	"github.com/brookmq/brook/socket"
)

// config is one coordinator run.
type config struct {
	n, workers, producerKills, workerKills int
	window, concurrency, inflight          int
	rate                                   float64
	seed, segment                          int64
	dir                                    string
	timeout                                time.Duration
	spawn                                  childproc.Spawner
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("durablequeue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.n, "n", 20000, "messages whose Send must succeed")
	fs.IntVar(&c.workers, "workers", 2, "worker processes")
	fs.IntVar(&c.producerKills, "producer-kills", 2, "times the producer is SIGKILLed and restarted while it sends")
	fs.IntVar(&c.workerKills, "worker-kills", 3, "times a worker (chosen at random) is SIGKILLed and restarted")
	fs.IntVar(&c.window, "window", 64, "messages the producer sends with SendAsync before it waits until they are durable")
	fs.IntVar(&c.inflight, "inflight", socket.DefaultHWM, "messages in flight (delivered, not acknowledged) per worker: the producer's send high-water mark; what is in flight when the producer dies is delivered again, to any worker")
	fs.IntVar(&c.concurrency, "concurrency", 4, "goroutines per worker that receive, process and acknowledge (their acknowledgements share the dedup store's fsyncs)")
	fs.Float64Var(&c.rate, "rate", 5000, "messages per second the producer sends (0: as fast as it can), so that the kills land mid-stream")
	fs.Int64Var(&c.seed, "seed", 0, "seed of the random kill points (0: from the clock; the run prints it)")
	fs.Int64Var(&c.segment, "segment", durable.DefaultSegmentSize, "journal segment size in bytes: a producer restarted after SIGKILL reads its active segment to the end (preallocated to this size) to find where the records stop")
	fs.StringVar(&c.dir, "dir", "", "directory for the journal and the dedup stores, kept afterwards (default: a temporary directory, removed)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q (roles are producer and worker)", fs.Arg(0))
		fmt.Fprintf(stderr, "durablequeue: %v\n", err)
		return c, err
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "durablequeue: %v\n", err)
		return c, err
	}
	if c.seed == 0 {
		c.seed = time.Now().UnixNano()
	}
	return c, nil
}

func (c *config) validate() error {
	switch {
	case c.n < 1 || c.workers < 1 || c.window < 1 || c.concurrency < 1 || c.inflight < 1:
		return errors.New("-n, -workers, -window, -inflight and -concurrency must be at least 1")
	case c.producerKills < 0 || c.workerKills < 0 || c.rate < 0:
		return errors.New("-producer-kills, -worker-kills and -rate must not be negative")
	case c.producerKills >= c.n:
		return errors.New("-producer-kills must be below -n: each kill lands after a different message")
	case c.segment < 4096:
		return errors.New("-segment must be at least 4096 bytes")
	case c.timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}
