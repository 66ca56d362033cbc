package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/brookmq/brook/cmd/mqbench/internal/jbench"
)

func TestJournalUsage(t *testing.T) {
	code, out, _ := mqbench(t, false, "journal", "-h")
	assert.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "usage: mqbench journal [flags]")
	assert.Contains(t, out, "-sync")
	assert.Contains(t, out, "-live-rate")

	code, out, _ = mqbench(t, false, "-h")
	assert.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "mqbench journal [flags]")

	code, _, errOut := mqbench(t, false, "journal", "--sync", "eventually")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, `--sync "eventually"`)
	assert.Contains(t, errOut, "mqbench -h")
}

// mqbench journal writes its report as text, and as JSON when asked,
// with a CPU profile when asked.
func TestJournalJSONAndProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.out")
	code, out, errOut := mqbench(t, false, "journal", "--workload", "queue", "--count", "1500", "--appenders", "8",
		"--journal", dir, "--json", "-", "--cpuprofile", prof)
	require.Equal(t, cli.ExitOK, code, errOut)
	var doc struct {
		Command string         `json:"command"`
		Result  *jbench.Result `json:"result"`
		Error   string         `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, "journal", doc.Command)
	assert.Empty(t, doc.Error)
	require.NotNil(t, doc.Result)
	require.Len(t, doc.Result.Sections, 1)
	assert.Len(t, doc.Result.Sections[0].Figures, 6)
	// The text report went to stderr, since stdout carries JSON.
	assert.Contains(t, errOut, "mqbench journal  go")
	assert.Contains(t, errOut, "journaled PUSH -> PULL acks, end to end")
	assert.Contains(t, errOut, "ratios: journaled/AppendAsync")
	assert.Regexp(t, `target: journaled PUSH end to end, msgs/s \(issue 9\) >= 150.0k, got \S+: (met|MISSED)`, errOut)
	st, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Positive(t, st.Size())
}

func TestJournalText(t *testing.T) {
	code, out, errOut := mqbench(t, false, "journal", "--workload", "fanout", "--count", "500", "--fanout", "2", "--size", "64", "--journal", t.TempDir())
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "workload=fanout transport=tcp sync=group count=500 hwm=default")
	assert.Contains(t, out, "fanout 64 B to 2 subscribers, 500 messages published from one goroutine")
	assert.Contains(t, out, "PUB with journal, per subscriber")
	assert.Contains(t, out, "ratios: journal/no journal, per subscriber")
}
