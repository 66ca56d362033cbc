package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/brookmq/brook/cmd/mqbench/internal/report"
	"github.com/stretchr/testify/require"
)

// mqbench runs the command line in this process and returns its exit
// code, stdout and stderr.
func mqbench(t *testing.T, tty bool, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := cli.Main(ctx, args, cli.IO{Stdout: &out, Stderr: &errOut, StdoutIsTerminal: tty})
	return code, out.String(), errOut.String()
}

// decode parses mqbench's JSON document.
func decode(t *testing.T, s string) report.Document {
	t.Helper()
	var doc report.Document
	require.NoError(t, json.Unmarshal([]byte(s), &doc), "JSON output:\n%s", s)
	return doc
}
