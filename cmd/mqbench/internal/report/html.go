package report

import (
	"fmt"
	"io"
	"strings"
)

// htmlStyle keeps the page readable without any external file.
const htmlStyle = `body { font-family: sans-serif; margin: 2em; color: #222222; max-width: 60em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.config, .env { font-family: monospace; font-size: 0.85em; color: #444444; }
svg.chart { display: block; margin: 1em 0; border: 1px solid #dddddd; }
table.summary { border-collapse: collapse; font-size: 0.9em; }
table.summary td, table.summary th { border: 1px solid #cccccc; padding: 0.25em 0.6em; text-align: right; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
.note { color: #8a5a00; font-size: 0.9em; }
.howto { font-size: 0.9em; color: #444444; }`

// writeHTML writes the picture as one self-contained HTML page with
// inline SVG (well-formed XML, so that XML tools can read it too).
func writeHTML(out io.Writer, p *picture) error {
	var w strings.Builder
	fmt.Fprintln(&w, `<!DOCTYPE html>`)
	fmt.Fprintln(&w, `<html xmlns="http://www.w3.org/1999/xhtml" lang="en">`)
	fmt.Fprintf(&w, "<head>\n<meta charset=\"utf-8\"/>\n<title>mqbench %s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", esc(p.Command), htmlStyle)
	fmt.Fprintf(&w, "<h1>mqbench %s</h1>\n<p class=\"config\">%s</p>\n<p class=\"env\">%s</p>\n", esc(p.Command), esc(p.Config), esc(envLine(p.Env)))
	fmt.Fprintf(&w, `<p class="howto">Each line is one implementation's %s latency at every percentile: the x axis is log(1/(1-p)), so 90%%, 99%%, 99.9%% ... are evenly spaced and each step right is ten times rarer; the y axis is logarithmic too. Lower is better; a line that turns up early has a heavy tail. A line ends where its samples stop resolving percentiles (1 - 1/samples).`, esc(p.Latency))
	if p.Command == "compare" {
		fmt.Fprint(&w, ` In compare, each implementation's line merges its rounds; the bars are the median of the rounds, the whiskers their range.`)
	}
	if p.Latency == "one-way" {
		fmt.Fprint(&w, ` One-way latency measured without --rate is mostly time spent queued.`)
	}
	fmt.Fprintln(&w, `</p>`)
	for i := range p.Sizes {
		sec := &p.Sizes[i]
		fmt.Fprintf(&w, "<section class=\"size\" data-size=\"%d\">\n<h2>%d B messages</h2>\n", sec.Size, sec.Size)
		if len(sec.Spectra) > 0 {
			writeSpectrum(&w, p, sec, 0, 0)
		}
		if len(sec.Bars) > 0 {
			writeBars(&w, p, sec, 0, 0)
		}
		writeSummaryTable(&w, p, sec)
		for _, m := range sec.Missing {
			fmt.Fprintf(&w, "<p class=\"note\">%s</p>\n", esc(m))
		}
		fmt.Fprintln(&w, `</section>`)
	}
	fmt.Fprintln(&w, "</body>\n</html>")
	_, err := io.WriteString(out, w.String())
	return err
}

// writeSummaryTable lists each implementation's percentiles in µs and
// its throughput ("-" where it has none).
func writeSummaryTable(w *strings.Builder, p *picture, sec *sizeSection) {
	if len(sec.Spectra) == 0 && len(sec.Bars) == 0 {
		return
	}
	fmt.Fprint(w, `<table class="summary"><tr><th>implementation</th><th>samples</th><th>p50 µs</th><th>p90 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>p99.99 µs</th><th>max µs</th>`)
	if sec.Metric != "" {
		fmt.Fprintf(w, `<th>%s (median)</th>`, esc(sec.Metric))
	}
	fmt.Fprintln(w, `</tr>`)
	for _, impl := range p.Impls {
		fmt.Fprintf(w, `<tr data-impl="%s"><td>%s</td>`, esc(impl), esc(impl))
		found := false
		for _, s := range sec.Spectra {
			if s.Impl == impl {
				found = true
				m := s.Summary
				fmt.Fprintf(w, `<td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>`, m.Count, us(m.P50), us(m.P90), us(m.P99), us(m.P999), us(m.P9999), us(m.Max))
			}
		}
		if !found {
			fmt.Fprint(w, `<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>`)
		}
		if sec.Metric != "" {
			cell := "-"
			for _, b := range sec.Bars {
				if b.Impl == impl {
					cell = Count(b.Median)
				}
			}
			fmt.Fprintf(w, `<td>%s</td>`, esc(cell))
		}
		fmt.Fprintln(w, `</tr>`)
	}
	fmt.Fprintln(w, `</table>`)
}
