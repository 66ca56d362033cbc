package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/brookmq/brook/metrics"
	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Serve the counters of two sockets on /metrics, as a service would, and
// scrape them once.
func Example() {
	ctx := context.Background()
	pull, _ := socket.New(socket.Pull)
	defer pull.Close()
	if err := pull.Bind("inproc://example-metrics"); err != nil {
		log.Fatal(err)
	}
	push, _ := socket.New(socket.Push)
	defer push.Close()
	if err := push.Connect("inproc://example-metrics"); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := push.Send(ctx, socket.NewMsg([]byte("job"))); err != nil {
			log.Fatal(err)
		}
		if _, err := pull.Recv(ctx); err != nil {
			log.Fatal(err)
		}
	}

	c := metrics.New()
	if err := c.AddSocket("jobs-in", pull); err != nil {
		log.Fatal(err)
	}
	if err := c.AddSocket("jobs-out", push); err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "brook_socket_sent") || strings.HasPrefix(line, "brook_socket_received") {
			fmt.Println(line)
		}
	}
	// Output:
	// brook_socket_received_messages_total{socket="jobs-in",type="PULL"} 3
	// brook_socket_received_messages_total{socket="jobs-out",type="PUSH"} 0
	// brook_socket_sent_messages_total{socket="jobs-in",type="PULL"} 0
	// brook_socket_sent_messages_total{socket="jobs-out",type="PUSH"} 3
}
