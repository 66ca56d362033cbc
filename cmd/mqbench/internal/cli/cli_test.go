package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsage(t *testing.T) {
	code, out, _ := mqbench(t, false, "-h")
	assert.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "usage: mqbench thr|lat|compare")
	assert.Contains(t, out, "-pattern")

	code, _, errOut := mqbench(t, false, "thr", "--pattern", "fanout")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, `unknown --pattern "fanout"`)
	assert.Contains(t, errOut, "mqbench -h")

	code, _, errOut = mqbench(t, false, "lat", "--rate", "100")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "--rate needs --duration or --count")

	code, _, errOut = mqbench(t, false, "thr", "--impl", "raw", "--pattern", "dealerrouter")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "raw is one connection without routing")
}

// TestEveryPatternJSON runs every pattern over inproc and tcp through the
// command line and checks the JSON document's counts.
func TestEveryPatternJSON(t *testing.T) {
	for _, tr := range []string{"inproc", "tcp"} {
		for _, p := range config.Patterns() {
			t.Run(tr+"/"+string(p), func(t *testing.T) {
				args := []string{"thr", "--pattern", string(p), "--transport", tr, "--count", "400", "--size", "100,3000", "--json", "-"}
				fanout := uint64(1)
				if p == config.PubSub {
					args = append(args, "--subscribers", "2", "--hwm", "5000")
					fanout = 2
				}
				code, out, errOut := mqbench(t, false, args...)
				require.Equal(t, cli.ExitOK, code, errOut)
				doc := decode(t, out)
				assert.Empty(t, doc.Error)
				assert.Equal(t, "thr", doc.Command)
				assert.NotEmpty(t, doc.Env.GoVersion)
				assert.NotEmpty(t, doc.Env.Commit)
				assert.Positive(t, doc.Env.GOMAXPROCS)
				require.Len(t, doc.Results, 2)
				for i, r := range doc.Results {
					assert.Equal(t, []int{100, 3000}[i], r.Size)
					assert.EqualValues(t, 400, r.Sent)
					assert.EqualValues(t, 400*fanout, r.Received)
					assert.Zero(t, r.Lost)
					assert.Zero(t, r.OutOfOrder)
					assert.Positive(t, r.MsgsPerSec)
					assert.EqualValues(t, r.Received, r.Corrected.Count)
				}
				// The human report went to stderr, since stdout carries JSON.
				assert.Contains(t, errOut, "mqbench thr")
				assert.Contains(t, errOut, "msgs/s")
			})
		}
	}
}

func TestTextCSVAndHGRM(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "out.csv")
	hgrmPath := filepath.Join(dir, "lat.hgrm")
	code, out, errOut := mqbench(t, false, "lat", "--pattern", "reqrep", "--transport", "inproc", "--count", "300",
		"--size", "64,512", "--csv", csvPath, "--hgrm", hgrmPath)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "mqbench lat  mode=lat pattern=reqrep transport=inproc impl=brook")
	assert.Contains(t, out, "GOMAXPROCS=")
	assert.Contains(t, out, "commit ")
	assert.Contains(t, out, "brook 64 B:")
	assert.Contains(t, out, "round-trip latency µs")
	assert.Contains(t, out, "p99.99")
	assert.NotContains(t, out, "\r", "no progress bar without a terminal")

	data, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "impl,mode,pattern"))
	assert.True(t, strings.HasPrefix(lines[1], "brook,lat,reqrep,inproc,both,64,"), lines[1])

	for _, size := range []int{64, 512} {
		h, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("lat-brook-%dB.hgrm", size)))
		require.NoError(t, err)
		assert.Contains(t, string(h), "Percentile")
		assert.Contains(t, string(h), "Total count    =          300")
	}
}

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	args := []string{"thr", "--transport", "inproc", "--rate", "2000", "--duration", "700ms"}
	code, out, errOut := mqbench(t, true, args...)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "\r\033[K", "the bar redraws in place")
	assert.Contains(t, out, "brook size#1 [")

	code, out, errOut = mqbench(t, false, args...)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.NotContains(t, out, "\r")
	assert.NotContains(t, out, "size#1 [")

	// A terminal whose stdout carries JSON gets no bar either.
	code, out, errOut = mqbench(t, true, append(args, "--json", "-")...)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.NotContains(t, out, "\r")
	decode(t, out)
}

func TestOpenLoopReport(t *testing.T) {
	code, out, errOut := mqbench(t, false, "lat", "--pattern", "pair", "--transport", "inproc", "--rate", "5000", "--count", "500")
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "rate=5000/s (open loop)")
	assert.Contains(t, out, "from intended send time")
	assert.Contains(t, out, "uncorrected µs (from actual send time)")
	assert.Contains(t, out, "send delay µs (actual - intended)")
}

func TestPubSubLossIsNotAnError(t *testing.T) {
	// PUB drops at its high-water mark by design: reported, exit 0.
	code, out, errOut := mqbench(t, false, "thr", "--pattern", "pubsub", "--transport", "inproc", "--count", "20000", "--hwm", "10", "--json", "-")
	require.Equal(t, cli.ExitOK, code, errOut)
	doc := decode(t, out)
	r := doc.Results[0]
	assert.EqualValues(t, 20000, r.Sent)
	assert.Equal(t, r.Sent, r.Received+r.Lost, "every message is either received or counted lost")
	if r.Lost > 0 {
		assert.Contains(t, errOut, "PUB drops at its high-water mark by design")
	}
}

// thr and lat write a CPU profile of the run when asked, and a profile
// that cannot be created is a usage error before anything runs. Every
// result says what CPU the process spent per message (where getrusage
// exists).
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.out")
	code, out, errOut := mqbench(t, false, "thr", "--transport", "inproc", "--count", "20000", "--cpuprofile", prof, "--json", "-")
	require.Equal(t, cli.ExitOK, code, errOut)
	var doc struct {
		Results []struct {
			CPU float64 `json:"cpu_ns_per_msg"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Results, 1)
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		assert.Positive(t, doc.Results[0].CPU)
		assert.Contains(t, errOut, " ns/msg (this process")
	}
	st, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Positive(t, st.Size())

	code, _, errOut = mqbench(t, false, "thr", "--transport", "inproc", "--count", "2000",
		"--cpuprofile", filepath.Join(dir, "no", "such", "dir", "cpu.out"))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "cpuprofile")
}
