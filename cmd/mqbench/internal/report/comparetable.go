package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
)

// CompareTable writes the compare figures: per size, each metric's median
// [min..max] per implementation and the ratio brook/other.
func CompareTable(w io.Writer, c *compare.Comparison) {
	names := make([]string, 0, len(c.Skipped))
	for name := range c.Skipped {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "skipped %s: %s\n", name, c.Skipped[name])
	}
	fmt.Fprintf(w, "%d rounds, implementations interleaved; each figure is the median [min..max] over the rounds;\nratio = brook / other (throughput: above 1 brook is faster; latency: below 1 brook is faster)\n", c.Rounds)
	if c.Latency == "one-way" {
		fmt.Fprintln(w, "latencies are one-way; without --rate they are mostly time spent queued (compare --mode lat measures latency)")
	}
	for _, t := range c.Tables {
		fmt.Fprintf(w, "\nsize %d B\n", t.Size)
		header := []string{"metric"}
		for i, cell := range t.Rows[0].Cells {
			header = append(header, cell.Impl)
			if i > 0 {
				header = append(header, "brook/"+cell.Impl)
			}
		}
		rows := [][]string{header}
		for _, r := range t.Rows {
			line := []string{r.Metric}
			for i, cell := range r.Cells {
				line = append(line, figure(r.Metric, cell))
				if i > 0 {
					line = append(line, ratio(cell.Ratio))
				}
			}
			rows = append(rows, line)
		}
		lost := []string{"lost (sum)"}
		for i, cell := range t.Rows[0].Cells {
			lost = append(lost, fmt.Sprint(t.Lost[cell.Impl]))
			if i > 0 {
				lost = append(lost, "")
			}
		}
		rows = append(rows, lost)
		writeColumns(w, rows)
	}
}

func figure(metric string, c compare.Cell) string {
	if len(c.Values) == 0 {
		return "failed"
	}
	f := us
	if !strings.Contains(metric, "µs") {
		f = Count
	}
	return fmt.Sprintf("%s [%s..%s]", f(c.Median), f(c.Min), f(c.Max))
}

func ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", r)
}

// writeColumns aligns rows of cells into columns.
func writeColumns(w io.Writer, rows [][]string) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
