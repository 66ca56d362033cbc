package cli_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/cli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --report draws the compare run: its HTML parses as XML and holds one
// spectrum per implementation, and throughput bars matching the JSON
// figures of the same run.
func TestCompareReport(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "r.html")
	code, out, errOut := mqbench(t, false, "compare", "--impls", "brook,zmq4", "--mode", "lat", "--pattern", "reqrep",
		"--transport", "inproc", "--count", "300", "--rounds", "2", "--warmup", "0s", "--json", "-", "--report", page)
	require.Equal(t, cli.ExitOK, code, errOut)
	doc := decode(t, out)
	b, err := os.ReadFile(page)
	require.NoError(t, err)

	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	series := map[string]int{}
	bars := map[string]string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok {
			attr := map[string]string{}
			for _, a := range se.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch attr["class"] {
			case "series":
				series[attr["data-impl"]]++
				count, err := strconv.Atoi(attr["data-count"])
				require.NoError(t, err)
				assert.Equal(t, 600, count, "two rounds of 300 round trips merged")
			case "bar":
				bars[attr["data-impl"]] = attr["data-median"]
			}
		}
	}
	assert.Equal(t, map[string]int{"brook": 1, "zmq4": 1}, series)
	rate := doc.Compare.Tables[0].Rows[3]
	require.Equal(t, "round trips/s", rate.Metric)
	for _, c := range rate.Cells {
		got, err := strconv.ParseFloat(bars[c.Impl], 64)
		require.NoError(t, err)
		assert.Equal(t, c.Median, got, c.Impl)
	}
}

// A single run writes an SVG; a name that is neither is a usage error.
func TestReportFlag(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "r.svg")
	code, _, errOut := mqbench(t, false, "lat", "--pattern", "reqrep", "--transport", "inproc", "--count", "200", "--report", img)
	require.Equal(t, cli.ExitOK, code, errOut)
	b, err := os.ReadFile(img)
	require.NoError(t, err)
	assert.Contains(t, string(b), `class="chart spectrum"`)
	assert.Contains(t, string(b), `data-impl="brook"`)

	code, _, errOut = mqbench(t, false, "lat", "--count", "200", "--report", filepath.Join(dir, "r.png"))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "must end in .html or .svg")
}
