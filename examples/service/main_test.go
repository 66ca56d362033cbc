package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("BROOK_SERVICE_CHILD") == "1" {
		os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr, spawner{}))
	}
	goleak.VerifyTestMain(m)
}

func testSpawner() spawner {
	return spawner{exe: os.Args[0], env: []string{"BROOK_SERVICE_CHILD=1"}}
}

// scrapeFamilies fetches and parses one /metrics page.
func scrapeFamilies(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

// checkInstanceMetrics checks the names, labels and plausible values of
// one instance's metrics while every instance is up.
func checkInstanceMetrics(url string, instances int) error {
	fams, err := scrapeFamilies(url)
	if err != nil {
		return err
	}
	var problems []string
	fail := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	value := func(name string, want map[string]string) (float64, bool) {
		for _, m := range fams[name].GetMetric() {
			l := labels(m)
			match := true
			for k, v := range want {
				match = match && l[k] == v
			}
			if match {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
		return 0, false
	}
	if v, ok := value("brook_socket_received_messages_total", map[string]string{"socket": "serve", "type": "ROUTER"}); !ok || v <= 0 {
		fail("ROUTER received %v (present %v)", v, ok)
	}
	if v, ok := value("brook_socket_sent_messages_total", map[string]string{"socket": "jobs", "type": "DEALER"}); !ok || v <= 0 {
		fail("DEALER sent %v (present %v)", v, ok)
	}
	if v, ok := value("brook_socket_connected_peers", map[string]string{"socket": "jobs"}); !ok || int(v) != instances {
		fail("DEALER connected to %v instances, want %d", v, instances)
	}
	up := 0
	for _, m := range fams["brook_peer_connected"].GetMetric() {
		l := labels(m)
		if l["socket"] == "jobs" && l["peer_type"] == "ROUTER" && m.GetGauge().GetValue() == 1 {
			up++
		}
	}
	if up != instances {
		fail("%d connected DEALER pipes with peer_type ROUTER, want %d", up, instances)
	}
	for _, reason := range []string{"hwm", "no-peer", "peer-gone", "unexpected", "unread"} {
		if _, ok := value("brook_socket_dropped_messages_total", map[string]string{"socket": "serve", "reason": reason}); !ok {
			fail("no dropped series for reason %s", reason)
		}
	}
	if v, ok := value("service_jobs_done_total", nil); !ok || v <= 0 {
		fail("service_jobs_done_total %v", v)
	}
	if fams["service_job_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
		fail("no job durations")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", url, strings.Join(problems, "; "))
	}
	return nil
}

// The demo restarts one instance gracefully and crashes another; it
// fails unless work goes on after each (the restarted instance serves the
// others again and every instance finishes more jobs). Its metrics are
// scraped while all run.
func TestDemoRestartsAndWorkContinues(t *testing.T) {
	for _, tr := range []string{"ipc", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			cfg, err := parseDemoFlags([]string{"-transport", tr, "-jobs", "30", "-rate", "200", "-report", "100ms",
				"-request-timeout", "1s", "-drain", "10s"}, os.Stderr)
			require.NoError(t, err)
			cfg.spawn = testSpawner()
			scraped := 0
			cfg.running = func(urls []string) error {
				for _, u := range urls {
					if err := checkInstanceMetrics(u, 3); err != nil {
						return err
					}
					scraped++
				}
				return nil
			}
			var out, errOut bytes.Buffer
			require.NoError(t, runDemo(&out, &errOut, cfg), "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			o := out.String()
			assert.Equal(t, 3, scraped)
			assert.Contains(t, o, "restart instance 0 (graceful: SIGTERM")
			assert.Regexp(t, `stopped gracefully, exit 0: done=\d+ abandoned=0`, o)
			assert.Contains(t, o, "restart instance 1 (crash: SIGKILL")
			assert.Equal(t, 2, strings.Count(o, "(they reconnected)"), o)
			// Five incarnations in the table: 0#1 1#1 2#1 0#2 1#2.
			for _, row := range []string{`0#1 +\d+ +SIGTERM`, `1#1 +\d+ +SIGKILL`, `2#1 +\d+ +SIGTERM`, `0#2 +\d+ +SIGTERM`, `1#2 +\d+ +SIGTERM`} {
				assert.Regexp(t, regexp.MustCompile(`(?m)^ +`+row), o)
			}
			assert.Regexp(t, `work went on through both restarts: \d+ jobs done, \d+ sends repeated after an instance went away, 0 failed, 0 abandoned at shutdown`, o)
		})
	}
}

// One instance in this process, over inproc: a REQ peer gets the digest
// of what it sends, and a graceful stop owes nothing.
func TestInstanceAnswersREQAndStopsGracefully(t *testing.T) {
	term, stop := context.WithCancel(context.Background())
	cfg, err := parseInstanceFlags([]string{"-self", "0", "-peers", "inproc://service-test", "-rate", "500", "-report", "50ms"}, os.Stderr)
	require.NoError(t, err)
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runInstance(term, cfg, &out) }()

	req, err := socket.New(socket.Req)
	require.NoError(t, err)
	defer req.Close()
	require.NoError(t, req.Connect("inproc://service-test"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, req.Send(ctx, socket.NewMsg([]byte("hello"))))
	m, err := req.Recv(ctx)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("hello"))
	assert.Equal(t, hex.EncodeToString(sum[:])+" instance-0", string(m.Frames[0]))

	// It also does its own jobs, serving them itself.
	require.Eventually(t, func() bool { return regexp.MustCompile(`event=progress done=[1-9]`).MatchString(out.String()) }, 30*time.Second, 10*time.Millisecond)
	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("the instance did not stop")
	}
	o := out.String()
	assert.Regexp(t, `(?m)^instance=0 pid=\d+ event=ready serve=inproc://service-test metrics=http://127\.0\.0\.1:\d+/metrics$`, o)
	assert.Regexp(t, `(?m)^instance=0 pid=\d+ event=stopped done=\d+ retried=\d+ dup=\d+ failed=0 outstanding=0 served=\d+ served_others=1 malformed=0 abandoned=0$`, o)
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"instance"}, {"instance", "-peers", "tcp://127.0.0.1:1", "-self", "1"}, {"instance", "-peers", "x", "-window", "0"},
		{"-instances", "1"}, {"-transport", "udp"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, mainCode(args, &out, &errOut, testSpawner()), args)
		assert.NotEmpty(t, errOut.String(), args)
	}
	var out bytes.Buffer
	assert.Equal(t, 0, mainCode([]string{"-h"}, &out, &out, testSpawner()))
	assert.Contains(t, out.String(), "-instances")
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
