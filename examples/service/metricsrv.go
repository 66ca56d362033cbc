package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/brookmq/brook/metrics"
	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves /metrics: brook's socket metrics (package
// metrics), the instance's own counters, and Go's runtime and process
// metrics.
type metricsServer struct {
	url     string
	srv     *http.Server
	done    chan struct{}
	once    sync.Once
	observe func(time.Duration)
}

func startMetrics(addr string, router, dealer *socket.Socket, st *counters) (*metricsServer, error) {
	bc := metrics.New()
	if err := bc.AddSocket("serve", router); err != nil {
		return nil, err
	}
	if err := bc.AddSocket("jobs", dealer); err != nil {
		return nil, err
	}
	jobSeconds := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "service_job_duration_seconds",
		Help:    "Time from making a job to its answer, resends included.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(bc, jobSeconds, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range []struct {
		name, help string
		v          func() uint64
	}{
		{"service_jobs_done_total", "Own jobs answered.", st.done.Load},
		{"service_jobs_retried_total", "Sends of a job after its first (its answer was late).", st.retried.Load},
		{"service_jobs_failed_total", "Jobs given up after every attempt.", st.failed.Load},
		{"service_answers_duplicate_total", "Answers to jobs already answered.", st.dup.Load},
		{"service_requests_served_total", "Requests answered, own jobs included.", st.served.Load},
		{"service_requests_malformed_total", "Requests of the wrong shape, dropped.", st.malformed.Load},
		{"service_handshakes_refused_total", "Handshakes the ROUTER refused (CURVE: a key not trusted).", st.refused.Load},
		{"service_handshakes_refused_by_peers_total", "Handshakes of the DEALER that other instances refused.", st.refusedByPeers.Load},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return float64(c.v()) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "service_jobs_outstanding", Help: "Jobs waiting for an answer."},
		func() float64 { return float64(st.outstanding.Load()) }))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	m := &metricsServer{
		url:     "http://" + ln.Addr().String() + "/metrics",
		srv:     &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		done:    make(chan struct{}),
		observe: func(d time.Duration) { jobSeconds.Observe(d.Seconds()) },
	}
	go func() {
		defer close(m.done)
		// Serve returns ErrServerClosed after close; any other error only
		// makes scrapes fail, and the service goes on.
		_ = m.srv.Serve(ln)
	}()
	return m, nil
}

// close stops the server, letting a scrape in progress finish briefly.
func (m *metricsServer) close() {
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if m.srv.Shutdown(ctx) != nil {
			m.srv.Close()
		}
		<-m.done
	})
}
