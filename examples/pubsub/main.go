// Command pubsub publishes weather updates under topics "weather.<city>"
// and runs subscribers with different topic prefixes: each receives
// exactly the updates its prefix matches, filtered at the publisher.
//
// The publisher is an XPUB, so it sees the subscriptions arrive and starts
// publishing only once every subscriber is listening (ZeroMQ's "slow
// joiner": a PUB drops whatever it sends before a subscription is in).
//
//	go run ./examples/pubsub -n 10000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/brookmq/brook/socket"
)

var cities = []string{"berlin", "bern", "lisbon", "oslo"}

func main() {
	n := flag.Int("n", 10000, "updates per city")
	flag.Parse()
	if err := run(*n); err != nil {
		log.SetFlags(0)
		log.Fatalf("pubsub: %v", err)
	}
}

func run(n int) error {
	if n < 1 {
		return errors.New("need -n >= 1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// An unlimited high-water mark: this demo wants every update delivered;
	// with a bounded one a PUB drops for slow subscribers (and counts it).
	// Verbose: every subscription message reaches us, duplicates included.
	pub, err := socket.New(socket.XPub, socket.WithSendHWM(0), socket.WithXPubVerbose(true))
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.Bind("tcp://127.0.0.1:0"); err != nil {
		return err
	}

	prefixes := []string{"weather.ber", "weather.oslo", "weather."}
	type result struct {
		prefix string
		counts map[string]int
		err    error
	}
	results := make(chan result, len(prefixes))
	for _, prefix := range prefixes {
		go func() {
			counts, err := subscriber(ctx, pub.LastEndpoint(), prefix)
			results <- result{prefix, counts, err}
		}()
	}
	// Each subscriber subscribes to its prefix and to "weather.end": wait
	// for all of those subscriptions (0x01 + topic) to reach the XPUB.
	for seen := 0; seen < 2*len(prefixes); {
		m, err := pub.Recv(ctx)
		if err != nil {
			return fmt.Errorf("waiting for subscriptions: %w", err)
		}
		if f := m.Frames[0]; len(f) > 0 && f[0] == 1 {
			seen++
		}
	}

	start := time.Now()
	for i := 0; i < n; i++ {
		for _, c := range cities {
			update := fmt.Sprintf("%d C", (i*7+len(c))%35)
			if err := pub.Send(ctx, socket.NewMsg([]byte("weather."+c), []byte(update))); err != nil {
				return err
			}
		}
	}
	if err := pub.Send(ctx, socket.NewMsg([]byte("weather.end"), nil)); err != nil {
		return err
	}
	for range prefixes {
		r := <-results
		if r.err != nil {
			return fmt.Errorf("subscriber %q: %w", r.prefix, r.err)
		}
		for _, c := range cities {
			want := 0
			if strings.HasPrefix("weather."+c, r.prefix) {
				want = n
			}
			if r.counts[c] != want {
				return fmt.Errorf("subscriber %q got %d updates for %s, want %d", r.prefix, r.counts[c], c, want)
			}
		}
		fmt.Printf("subscriber %-14q received %v\n", r.prefix, r.counts)
	}
	elapsed := time.Since(start)
	fmt.Printf("%d updates published in %v; every subscriber got exactly what its prefix matches\n",
		n*len(cities), elapsed.Round(time.Millisecond))
	return nil
}

// subscriber counts the updates it receives per city until "weather.end".
func subscriber(ctx context.Context, endpoint, prefix string) (map[string]int, error) {
	sub, err := socket.New(socket.Sub)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	if err := sub.Subscribe([]byte(prefix)); err != nil {
		return nil, err
	}
	if err := sub.Subscribe([]byte("weather.end")); err != nil {
		return nil, err
	}
	if err := sub.Connect(endpoint); err != nil {
		return nil, err
	}
	counts := make(map[string]int)
	for {
		m, err := sub.Recv(ctx)
		if err != nil {
			return counts, err
		}
		topic := string(m.Frames[0])
		if topic == "weather.end" {
			return counts, nil
		}
		counts[strings.TrimPrefix(topic, "weather.")]++
	}
}
