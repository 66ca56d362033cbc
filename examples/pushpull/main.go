// Command pushpull is a fan-out/fan-in pipeline over brook: a ventilator
// PUSHes numbered tasks to workers, which PUSH results to a sink PULL. It
// checks that every task came back exactly once and prints throughput.
//
//	go run ./examples/pushpull                    # tcp, 3 workers
//	go run ./examples/pushpull -endpoint ipc:///tmp/pp -workers 4 -n 200000
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/brookmq/brook/socket"
)

func main() {
	var (
		endpoint = flag.String("endpoint", "tcp://127.0.0.1:0", "endpoint the ventilator binds (tcp, ipc or inproc)")
		workers  = flag.Int("workers", 3, "number of workers")
		n        = flag.Int("n", 100000, "number of tasks")
		size     = flag.Int("size", 64, "task size in bytes (>= 8)")
	)
	flag.Parse()
	if err := run(*endpoint, *workers, *n, *size); err != nil {
		log.SetFlags(0)
		log.Fatalf("pushpull: %v", err)
	}
}

func run(endpoint string, workers, n, size int) error {
	if size < 8 || workers < 1 || n < 1 {
		return errors.New("need -size >= 8, -workers >= 1, -n >= 1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	vent, err := socket.New(socket.Push)
	if err != nil {
		return err
	}
	defer vent.Close()
	if err := vent.Bind(endpoint); err != nil {
		return err
	}
	sink, err := socket.New(socket.Pull)
	if err != nil {
		return err
	}
	defer sink.Close()
	sinkEndpoint := endpoint // tcp port 0 picks another free port
	if strings.HasPrefix(endpoint, "ipc://") {
		sinkEndpoint = endpoint + ".sink"
	} else if strings.HasPrefix(endpoint, "inproc://") {
		sinkEndpoint = endpoint + "-sink"
	}
	if err := sink.Bind(sinkEndpoint); err != nil {
		return err
	}

	// Workers: PULL tasks from the ventilator, PUSH them on to the sink.
	// Wait until all are connected, so the first one does not get the
	// first thousand tasks queued for it alone.
	events, stopEvents := vent.Monitor()
	errc := make(chan error, workers+1)
	for w := 0; w < workers; w++ {
		go func() { errc <- worker(ctx, w, vent.LastEndpoint(), sink.LastEndpoint()) }()
	}
	for joined := 0; joined < workers; {
		select {
		case e := <-events:
			if e.Type == socket.EventHandshakeSucceeded {
				joined++
			}
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	stopEvents()

	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			task := make([]byte, size)
			binary.BigEndian.PutUint64(task, uint64(i))
			if err := vent.Send(ctx, socket.NewMsg(task)); err != nil {
				errc <- fmt.Errorf("ventilator: %w", err)
				return
			}
		}
	}()

	seen := make([]bool, n)
	perWorker := make(map[string]int)
	for got := 0; got < n; got++ {
		m, err := sink.Recv(ctx)
		if err != nil {
			select {
			case werr := <-errc:
				return errors.Join(err, werr)
			default:
				return fmt.Errorf("sink after %d of %d results: %w", got, n, err)
			}
		}
		i := binary.BigEndian.Uint64(m.Frames[1])
		if i >= uint64(n) || seen[i] {
			return fmt.Errorf("sink: unexpected or duplicate task %d", i)
		}
		seen[i] = true
		perWorker[string(m.Frames[0])]++
	}
	elapsed := time.Since(start)
	cancel() // stop the workers
	fmt.Printf("%d tasks of %d B through %d workers over %s in %v: %.0f msgs/s\n",
		n, size, workers, strings.SplitN(endpoint, "://", 2)[0], elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	for w := 0; w < workers; w++ {
		k := perWorker[fmt.Sprint(w)]
		fmt.Printf("  worker %d: %d tasks (%.1f%%)\n", w, k, 100*float64(k)/float64(n))
	}
	fmt.Println("every task came back exactly once")
	return nil
}

func worker(ctx context.Context, id int, from, to string) error {
	in, err := socket.New(socket.Pull)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := socket.New(socket.Push)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := in.Connect(from); err != nil {
		return err
	}
	if err := out.Connect(to); err != nil {
		return err
	}
	name := []byte(fmt.Sprint(id))
	for {
		m, err := in.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := out.Send(ctx, socket.NewMsg(name, m.Frames[0])); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
