// Command reqrep runs a request/reply service behind a broker: clients
// (REQ) talk to a ROUTER frontend, socket.Proxy forwards to a DEALER
// backend, and worker REP sockets answer. The DEALER spreads requests over
// the workers and the envelopes bring each reply back to its client.
//
//	go run ./examples/reqrep -clients 4 -workers 3 -n 1000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/brookmq/brook/socket"
)

func main() {
	clients := flag.Int("clients", 4, "number of REQ clients")
	workers := flag.Int("workers", 3, "number of REP workers")
	n := flag.Int("n", 1000, "requests per client")
	flag.Parse()
	if err := run(*clients, *workers, *n); err != nil {
		log.SetFlags(0)
		log.Fatalf("reqrep: %v", err)
	}
}

func run(clients, workers, n int) error {
	if clients < 1 || workers < 1 || n < 1 {
		return errors.New("need -clients, -workers and -n >= 1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	frontend, err := socket.New(socket.Router)
	if err != nil {
		return err
	}
	defer frontend.Close()
	backend, err := socket.New(socket.Dealer)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := frontend.Bind("tcp://127.0.0.1:0"); err != nil {
		return err
	}
	if err := backend.Bind("tcp://127.0.0.1:0"); err != nil {
		return err
	}
	proxyCtx, stopProxy := context.WithCancel(ctx)
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- socket.Proxy(proxyCtx, frontend, backend, nil) }()

	served := make([]int, workers)
	var wg sync.WaitGroup
	workCtx, stopWorkers := context.WithCancel(ctx)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			served[w] = worker(workCtx, w, backend.LastEndpoint())
		}()
	}

	start := time.Now()
	errc := make(chan error, clients)
	for c := 0; c < clients; c++ {
		go func() { errc <- client(ctx, c, frontend.LastEndpoint(), n) }()
	}
	var errs []error
	for c := 0; c < clients; c++ {
		errs = append(errs, <-errc)
	}
	elapsed := time.Since(start)
	stopWorkers()
	wg.Wait()
	stopProxy()
	<-proxyDone
	if err := errors.Join(errs...); err != nil {
		return err
	}
	total := clients * n
	fmt.Printf("%d requests from %d clients answered by %d workers in %v: %.0f round trips/s\n",
		total, clients, workers, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	for w, k := range served {
		fmt.Printf("  worker %d served %d\n", w, k)
	}
	fmt.Println("every reply reached the client that asked")
	return nil
}

// client sends n requests one at a time and checks each reply answers it.
func client(ctx context.Context, id int, endpoint string, n int) error {
	req, err := socket.New(socket.Req)
	if err != nil {
		return err
	}
	defer req.Close()
	if err := req.Connect(endpoint); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		q := fmt.Sprintf("client %d request %d", id, i)
		if err := req.Send(ctx, socket.NewMsg([]byte(q))); err != nil {
			return fmt.Errorf("client %d: %w", id, err)
		}
		m, err := req.Recv(ctx)
		if err != nil {
			return fmt.Errorf("client %d: %w", id, err)
		}
		if got := string(m.Frames[0]); !strings.HasSuffix(got, "answers "+q) {
			return fmt.Errorf("client %d: reply %q does not answer %q", id, got, q)
		}
	}
	return nil
}

// worker answers requests until ctx ends and returns how many it served.
func worker(ctx context.Context, id int, endpoint string) int {
	rep, err := socket.New(socket.Rep)
	if err != nil {
		return 0
	}
	defer rep.Close()
	if err := rep.Connect(endpoint); err != nil {
		return 0
	}
	served := 0
	for {
		m, err := rep.Recv(ctx)
		if err != nil {
			return served
		}
		reply := fmt.Sprintf("worker %d answers %s", id, m.Frames[0])
		if err := rep.Send(ctx, socket.NewMsg([]byte(reply))); err != nil {
			return served
		}
		served++
	}
}
