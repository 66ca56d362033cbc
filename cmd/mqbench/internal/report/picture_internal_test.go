package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
	"github.com/brookmq/brook/cmd/mqbench/internal/stats"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is a parsed XML element.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     string
}

// parseXML parses a whole document strictly (the HTML report is
// well-formed XML too).
func parseXML(t *testing.T, b []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	root := &node{name: "#root"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local, attr: map[string]string{}}
			for _, a := range tk.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(tk)
		}
	}
	require.Len(t, stack, 1, "every element closed")
	return root
}

// find returns the elements below n (n included) that have every class.
func (n *node) find(classes ...string) []*node {
	var out []*node
	var walk func(*node)
	walk = func(x *node) {
		have := strings.Fields(x.attr["class"])
		ok := true
		for _, c := range classes {
			ok = ok && contains(have, c)
		}
		if ok {
			out = append(out, x)
		}
		for _, c := range x.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// allText is the text of n and every element below it.
func (n *node) allText() string {
	s := n.text
	for _, c := range n.children {
		s += c.allText()
	}
	return s
}

func (n *node) float(t *testing.T, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr[key], 64)
	require.NoError(t, err, "%s=%q", key, n.attr[key])
	return v
}

// histogramFor makes a histogram of n latencies spread from lo to hi µs
// (geometrically), so that every percentile is distinct.
func histogramFor(n int, lo, hi float64) *stats.Histogram {
	h := stats.NewHistogram()
	for i := range n {
		f := float64(i) / float64(n-1)
		h.Record(int64(lo * math.Pow(hi/lo, f*f*f) * 1e3))
	}
	return h
}

// compareDoc is a compare of brook and zmq4 over 2 rounds and 2 sizes,
// with synthetic histograms; libzmq ran but has no histogram (failed).
func compareDoc() (*Document, map[*workload.Result]*stats.Histogram) {
	c := &compare.Comparison{Rounds: 2, Latency: "round-trip", Impls: []string{"brook", "zmq4", "libzmq"}}
	hists := map[*workload.Result]*stats.Histogram{}
	for round := 1; round <= 2; round++ {
		for _, impl := range c.Impls {
			run := compare.Run{Round: round, Impl: impl}
			if impl == "libzmq" {
				run.Error = "it failed"
			}
			for _, size := range []int{64, 1024} {
				run.Results = append(run.Results, workload.Result{Impl: impl, Size: size, Latency: "round-trip"})
			}
			c.Runs = append(c.Runs, run)
		}
	}
	for i := range c.Runs {
		run := &c.Runs[i]
		if run.Error != "" {
			continue
		}
		for k := range run.Results {
			scale := float64(k+1) * float64(run.Round)
			if run.Impl == "zmq4" {
				scale *= 3
			}
			hists[&run.Results[k]] = histogramFor(5000+1000*run.Round, 10*scale, 5000*scale)
		}
	}
	for _, size := range []int{64, 1024} {
		s := float64(size)
		c.Tables = append(c.Tables, compare.Table{Size: size, Rows: []compare.Row{
			{Metric: "p50 µs", Cells: []compare.Cell{{Impl: "brook", Median: 1, Values: []float64{1}}}},
			{Metric: "round trips/s", HigherIsBetter: true, Cells: []compare.Cell{
				{Impl: "brook", Median: 20000 - s, Min: 18000 - s, Max: 21000 - s, Values: []float64{18000 - s, 21000 - s}},
				{Impl: "zmq4", Median: 9000, Min: 8000, Max: 10000, Values: []float64{8000, 10000}, Ratio: 2.2},
				{Impl: "libzmq"},
			}},
		}})
	}
	return &Document{Command: "compare", Config: "mode=lat pattern=reqrep <&> quoted \"x\"", Env: Env{GoVersion: "go1.x", CPU: "Test & CPU"}, Compare: c}, hists
}

// merged is what the report must show for impl at size index k.
func merged(doc *Document, hists map[*workload.Result]*stats.Histogram, impl string, k int) *stats.Histogram {
	m := stats.NewHistogram()
	for i := range doc.Compare.Runs {
		run := &doc.Compare.Runs[i]
		if run.Impl == impl && run.Error == "" {
			m.Merge(hists[&run.Results[k]])
		}
	}
	return m
}

func render(t *testing.T, write func(io.Writer, *picture) error, doc *Document, hists map[*workload.Result]*stats.Histogram) *node {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, write(&b, buildPicture(doc, func(r *workload.Result) *stats.Histogram { return hists[r] })))
	return parseXML(t, b.Bytes())
}

// checkSpectrum checks one spectrum chart: its axes, one series per
// implementation with a histogram, and every point mapping back to the
// input histograms' percentiles.
func checkSpectrum(t *testing.T, chart *node, want map[string]*stats.Histogram) {
	t.Helper()
	xs := chart.find("axis", "x")
	ys := chart.find("axis", "y")
	require.Len(t, xs, 1)
	require.Len(t, ys, 1)
	x, y := xs[0], ys[0]
	assert.Equal(t, "log-inverse-percentile", x.attr["data-scale"])
	assert.Equal(t, "log", y.attr["data-scale"])
	var labels []string
	for _, tick := range x.find("tick") {
		labels = append(labels, strings.TrimSpace(tick.allText()))
	}
	assert.Equal(t, []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}, labels)
	assert.NotEmpty(t, y.find("tick"))

	left, width, dec := x.float(t, "data-left"), x.float(t, "data-width"), x.float(t, "data-decades")
	top, height := y.float(t, "data-top"), y.float(t, "data-height")
	ymin, ymax := y.float(t, "data-min"), y.float(t, "data-max")
	series := chart.find("series")
	var impls []string
	for _, s := range series {
		impl := s.attr["data-impl"]
		impls = append(impls, impl)
		h := want[impl]
		require.NotNil(t, h, impl)
		assert.Equal(t, strconv.FormatInt(h.Count(), 10), s.attr["data-count"])
		line := s.child("polyline")
		require.NotNil(t, line)
		pts := strings.Fields(line.attr["points"])
		expect := spectrumPoints(h)
		require.Len(t, pts, len(expect), impl)
		for i, p := range pts {
			px, py, ok := strings.Cut(p, ",")
			require.True(t, ok)
			fx, err := strconv.ParseFloat(px, 64)
			require.NoError(t, err)
			fy, err := strconv.ParseFloat(py, 64)
			require.NoError(t, err)
			// Map the drawing back: x to a percentile, y to µs.
			d := (fx - left) / width * dec
			pct := 100 * (1 - math.Pow(10, -d))
			us := math.Pow(10, math.Log10(ymin)+(1-(fy-top)/height)*(math.Log10(ymax)-math.Log10(ymin)))
			assert.InDelta(t, expect[i].Percentile, pct, 0.001+1e-3*(100-pct), "%s point %d percentile", impl, i)
			wantUS := float64(h.ValueAtQuantile(expect[i].Percentile)) / 1e3
			assert.InEpsilon(t, wantUS, us, 0.002, "%s point %d at p%.4f", impl, i, expect[i].Percentile)
		}
		assert.Equal(t, float64(h.Summary().Max), s.float(t, "data-max"))
		// The line runs as far as the samples resolve.
		last := expect[len(expect)-1].Percentile
		assert.InDelta(t, math.Min(99.999, 100*(1-1/float64(h.Count()))), last, 1e-9)
	}
	var wantImpls []string
	for impl := range want {
		wantImpls = append(wantImpls, impl)
	}
	assert.ElementsMatch(t, wantImpls, impls, "one series per implementation")
	assert.Len(t, chart.find("legend"), len(want))
}

func TestHTMLReportCompare(t *testing.T) {
	doc, hists := compareDoc()
	root := render(t, writeHTML, doc, hists)
	page := root.child("html")
	require.NotNil(t, page)
	body := page.child("body")
	require.NotNil(t, body)
	assert.Contains(t, body.allText(), `mode=lat pattern=reqrep <&> quoted "x"`, "text is escaped and reads back")
	sections := body.find("size")
	require.Len(t, sections, 2)
	for k, sec := range sections {
		size := []int{64, 1024}[k]
		assert.Equal(t, fmt.Sprint(size), sec.attr["data-size"])
		charts := sec.find("chart", "spectrum")
		require.Len(t, charts, 1)
		checkSpectrum(t, charts[0], map[string]*stats.Histogram{
			"brook": merged(doc, hists, "brook", k),
			"zmq4":  merged(doc, hists, "zmq4", k),
		})
		assert.Contains(t, sec.allText(), "libzmq: no latency histogram", "a failed implementation is named, not drawn")

		bars := sec.find("chart", "throughput")
		require.Len(t, bars, 1)
		assert.Equal(t, "round trips/s", bars[0].attr["data-metric"])
		y := bars[0].find("axis", "y")[0]
		top, height, ymax := y.float(t, "data-top"), y.float(t, "data-height"), y.float(t, "data-max")
		cells := doc.Compare.Tables[k].Rows[1].Cells
		got := bars[0].find("bar")
		require.Len(t, got, 2, "libzmq has no figures, so no bar")
		for i, b := range got {
			cell := cells[i]
			assert.Equal(t, cell.Impl, b.attr["data-impl"])
			assert.Equal(t, cell.Median, b.float(t, "data-median"))
			rect := b.child("rect")
			require.NotNil(t, rect)
			h, ry := rect.float(t, "height"), rect.float(t, "y")
			assert.InEpsilon(t, cell.Median, h/height*ymax, 0.001, "bar height is the median")
			assert.InDelta(t, top+height, ry+h, 0.02, "bars stand on the axis")
			assert.GreaterOrEqual(t, ymax, cell.Max)
		}

		// The summary table repeats the merged percentiles.
		rows := sec.find("summary")[0].children
		require.Len(t, rows, 4, "header, brook, zmq4, libzmq")
		brook := merged(doc, hists, "brook", k).Summary()
		assert.Equal(t, "brook", rows[1].attr["data-impl"])
		assert.Equal(t, us(brook.P50), rows[1].children[2].text)
		assert.Equal(t, us(brook.P999), rows[1].children[5].text)
		assert.Equal(t, Count(cells[0].Median), rows[1].children[8].text)
		assert.Equal(t, "-", rows[3].children[2].text)
	}
}

func TestSVGReportSingleRun(t *testing.T) {
	results := []workload.Result{
		{Impl: "brook", Size: 64, Latency: "one-way"},
		{Impl: "brook", Size: 4096, Latency: "one-way"},
		{Impl: "brook", Size: 65536, Latency: "one-way"}, // measured elsewhere
	}
	hists := map[*workload.Result]*stats.Histogram{}
	doc := &Document{Command: "thr", Config: "mode=thr", Results: results}
	hists[&doc.Results[0]] = histogramFor(200000, 3, 900) // more samples than 99.999% needs
	hists[&doc.Results[1]] = histogramFor(1, 42, 42)      // a single sample
	root := render(t, writeSVG, doc, hists)
	svg := root.child("svg")
	require.NotNil(t, svg)
	assert.Equal(t, "mqbench-report", svg.attr["class"])
	charts := svg.find("chart", "spectrum")
	require.Len(t, charts, 2)
	assert.Empty(t, svg.find("chart", "throughput"), "bars are for compare")
	checkSpectrum(t, charts[0], map[string]*stats.Histogram{"brook": hists[&doc.Results[0]]})
	checkSpectrum(t, charts[1], map[string]*stats.Histogram{"brook": hists[&doc.Results[1]]})
	assert.Contains(t, charts[0].child("title").text, "one-way latency")
	line := charts[0].find("series")[0].child("polyline")
	assert.Len(t, strings.Fields(line.attr["points"]), maxDecades*decadeSteps+1, "0% to 99.999%")
	notes := svg.find("note")
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0].text, "65536 B: brook: no latency histogram")
}

func TestPictureWriter(t *testing.T) {
	for _, ok := range []string{"r.html", "R.HTM", "x/y.svg"} {
		_, err := pictureWriter(ok)
		assert.NoError(t, err, ok)
	}
	_, err := pictureWriter("r.png")
	assert.ErrorContains(t, err, "must end in .html or .svg")
	assert.Error(t, WritePicture("/nonexistent/dir/r.html", &Document{}))
}

func TestScales(t *testing.T) {
	s := newLogScale(23, 4100)
	assert.Equal(t, 10.0, s.min)
	assert.Equal(t, 10000.0, s.max)
	assert.Equal(t, []float64{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}, s.ticks())
	assert.InDelta(t, float64(plotT+plotH), s.y(10), 1e-9)
	assert.InDelta(t, float64(plotT), s.y(10000), 1e-9)
	assert.Equal(t, s.y(floorMicros), s.y(0), "zero is drawn at the floor")
	assert.Equal(t, 10.0, newLogScale(10, 10).max/newLogScale(10, 10).min)
	assert.Equal(t, 2e6, niceCeil(1.41e6))
	assert.Equal(t, 50000.0, niceCeil(50000))
	assert.Equal(t, 1.0, niceCeil(0))
	assert.Equal(t, 0.0, decades(0))
	assert.InDelta(t, 3.0, decades(99.9), 1e-9)
	assert.Equal(t, float64(maxDecades), decades(100))
	assert.Equal(t, []string{"aa bb", "cccccc", "d"}, wrap("aa bb cccccc d", 5))
}
