package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry, in SVG user units. Every chart carries its plot area in
// data attributes (data-left, data-top, data-width, data-height on its
// axes), so that a reader can map points back to values.
const (
	chartW  = 780
	chartH  = 400
	plotL   = 80
	plotT   = 50
	plotW   = 470
	plotH   = 290
	legendX = plotL + plotW + 30
)

// palette colours implementations in the order of picture.Impls.
func palette() []string {
	return []string{"#1f5fbf", "#d0392b", "#2e9e44", "#8e44ad", "#e67e22", "#7f6000"}
}

func (p *picture) color(impl string) string {
	pal := palette()
	for i, name := range p.Impls {
		if name == impl {
			return pal[i%len(pal)]
		}
	}
	return "#555555"
}

// esc escapes text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate.
func num(v float64) string { return fmt.Sprintf("%.2f", v) }

// logScale maps values onto [top+height, top] logarithmically.
type logScale struct {
	min, max, top, height float64
}

func newLogScale(lo, hi float64) logScale {
	lo, hi = math.Max(lo, floorMicros), math.Max(hi, floorMicros)
	min := math.Pow(10, math.Floor(math.Log10(lo)))
	max := math.Pow(10, math.Ceil(math.Log10(hi)))
	if max <= min {
		max = min * 10
	}
	return logScale{min: min, max: max, top: plotT, height: plotH}
}

func (s logScale) y(v float64) float64 {
	v = math.Max(v, floorMicros)
	f := (math.Log10(v) - math.Log10(s.min)) / (math.Log10(s.max) - math.Log10(s.min))
	return s.top + s.height*(1-f)
}

// ticks are 1, 2 and 5 times each power of ten in range.
func (s logScale) ticks() []float64 {
	var t []float64
	for k := math.Log10(s.min); k <= math.Log10(s.max)+1e-9; k++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, k)
			if v >= s.min*(1-1e-9) && v <= s.max*(1+1e-9) {
				t = append(t, v)
			}
		}
	}
	return t
}

// percentileX maps a percentile onto the x axis.
func percentileX(pct float64) float64 { return plotL + plotW*decades(pct)/maxDecades }

// percentileTicks label each decade of the x axis.
func percentileTicks() []struct {
	pct   float64
	label string
} {
	return []struct {
		pct   float64
		label string
	}{{0, "0%"}, {90, "90%"}, {99, "99%"}, {99.9, "99.9%"}, {99.99, "99.99%"}, {99.999, "99.999%"}}
}

// writeSpectrum writes one size's latency spectra as an <svg> element at
// (x, y) of its parent.
func writeSpectrum(w *strings.Builder, p *picture, sec *sizeSection, x, y float64) {
	lo, hi := math.Inf(1), 0.0
	for _, s := range sec.Spectra {
		for _, pt := range s.Points {
			if pt.Micros > 0 {
				lo = math.Min(lo, pt.Micros)
			}
			hi = math.Max(hi, pt.Micros)
		}
	}
	if math.IsInf(lo, 1) {
		lo = floorMicros
	}
	sc := newLogScale(lo, hi)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart spectrum" data-size="%d" x="%s" y="%s" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n",
		sec.Size, num(x), num(y), chartW, chartH, chartW, chartH)
	fmt.Fprintf(w, `<title>%s latency by percentile, %d B messages</title>`+"\n", esc(p.Latency), sec.Size)
	fmt.Fprintf(w, `<rect class="background" x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	fmt.Fprintf(w, `<text class="heading" x="%d" y="24" font-size="16" font-family="sans-serif">%s latency by percentile, %d B messages</text>`+"\n",
		plotL, esc(capitalize(p.Latency)), sec.Size)

	// x axis: percentiles on log(1/(1-p)).
	bottom := float64(plotT + plotH)
	fmt.Fprintf(w, `<g class="axis x" data-scale="log-inverse-percentile" data-left="%d" data-width="%d" data-decades="%d" font-family="sans-serif" font-size="11">`+"\n", plotL, plotW, maxDecades)
	fmt.Fprintf(w, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#000000"/>`+"\n", plotL, num(bottom), plotL+plotW, num(bottom))
	for _, t := range percentileTicks() {
		tx := percentileX(t.pct)
		fmt.Fprintf(w, `<g class="tick" data-percentile="%g"><line x1="%s" y1="%d" x2="%s" y2="%s" stroke="#dddddd"/><text x="%s" y="%s" text-anchor="middle">%s</text></g>`+"\n",
			t.pct, num(tx), plotT, num(tx), num(bottom), num(tx), num(bottom+16), esc(t.label))
	}
	fmt.Fprintf(w, `<text class="label" x="%s" y="%s" text-anchor="middle">percentile (log scale: each step right is ten times rarer)</text>`+"\n", num(plotL+plotW/2), num(bottom+36))
	fmt.Fprintln(w, `</g>`)

	// y axis: latency, log scale.
	fmt.Fprintf(w, `<g class="axis y" data-scale="log" data-min="%g" data-max="%g" data-top="%d" data-height="%d" font-family="sans-serif" font-size="11">`+"\n", sc.min, sc.max, plotT, plotH)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%s" stroke="#000000"/>`+"\n", plotL, plotT, plotL, num(bottom))
	for _, v := range sc.ticks() {
		ty := sc.y(v)
		fmt.Fprintf(w, `<g class="tick" data-value="%g"><line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#eeeeee"/><text x="%d" y="%s" text-anchor="end">%s</text></g>`+"\n",
			v, plotL, num(ty), plotL+plotW, num(ty), plotL-6, num(ty+4), esc(tickLabel(v)))
	}
	fmt.Fprintf(w, `<text class="label" x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">latency µs (log scale)</text>`+"\n", num(plotT+plotH/2), num(plotT+plotH/2))
	fmt.Fprintln(w, `</g>`)

	// One series per implementation, and its legend entry.
	for i, s := range sec.Spectra {
		color := p.color(s.Impl)
		var pts []string
		for _, pt := range s.Points {
			pts = append(pts, num(percentileX(pt.Percentile))+","+num(sc.y(pt.Micros)))
		}
		fmt.Fprintf(w, `<g class="series" data-impl="%s" data-count="%d" data-max="%g"><title>%s: %d samples, p50 %s, p99 %s, max %s</title>`+"\n",
			esc(s.Impl), s.Summary.Count, s.Summary.Max, esc(s.Impl), s.Summary.Count,
			esc(latencyLabel(s.Summary.P50)), esc(latencyLabel(s.Summary.P99)), esc(latencyLabel(s.Summary.Max)))
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.Join(pts, " "))
		fmt.Fprintln(w, `</g>`)
		ly := plotT + 10 + i*58
		fmt.Fprintf(w, `<g class="legend" data-impl="%s" font-family="sans-serif" font-size="12"><rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d">%s</text>`,
			esc(s.Impl), legendX, ly, color, legendX+20, ly+12, esc(s.Impl))
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="10" fill="#555555">p50 %s, p99 %s</text><text x="%d" y="%d" font-size="10" fill="#555555">max %s, %d samples</text></g>`+"\n",
			legendX+20, ly+28, esc(latencyLabel(s.Summary.P50)), esc(latencyLabel(s.Summary.P99)),
			legendX+20, ly+42, esc(latencyLabel(s.Summary.Max)), s.Summary.Count)
	}
	fmt.Fprintln(w, `</svg>`)
}

// writeBars writes one size's throughput bars as an <svg> element.
func writeBars(w *strings.Builder, p *picture, sec *sizeSection, x, y float64) {
	top := 0.0
	for _, b := range sec.Bars {
		top = math.Max(top, math.Max(b.Max, b.Median))
	}
	ymax := niceCeil(top)
	yOf := func(v float64) float64 { return plotT + plotH*(1-v/ymax) }
	bottom := float64(plotT + plotH)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart throughput" data-size="%d" data-metric="%s" x="%s" y="%s" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n",
		sec.Size, esc(sec.Metric), num(x), num(y), chartW, chartH, chartW, chartH)
	fmt.Fprintf(w, `<title>%s, %d B messages</title>`+"\n", esc(sec.Metric), sec.Size)
	fmt.Fprintf(w, `<rect class="background" x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	fmt.Fprintf(w, `<text class="heading" x="%d" y="24" font-size="16" font-family="sans-serif">Throughput (%s), %d B messages: median and range over the rounds</text>`+"\n", plotL, esc(sec.Metric), sec.Size)
	fmt.Fprintf(w, `<g class="axis y" data-scale="linear" data-min="0" data-max="%g" data-top="%d" data-height="%d" font-family="sans-serif" font-size="11">`+"\n", ymax, plotT, plotH)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%s" stroke="#000000"/>`+"\n", plotL, plotT, plotL, num(bottom))
	for i := 0; i <= 5; i++ {
		v := ymax * float64(i) / 5
		fmt.Fprintf(w, `<g class="tick" data-value="%g"><line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#eeeeee"/><text x="%d" y="%s" text-anchor="end">%s</text></g>`+"\n",
			v, plotL, num(yOf(v)), plotL+plotW, num(yOf(v)), plotL-6, num(yOf(v)+4), esc(Count(v)))
	}
	fmt.Fprintf(w, `<text class="label" x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">%s</text>`+"\n", num(plotT+plotH/2), num(plotT+plotH/2), esc(sec.Metric))
	fmt.Fprintln(w, `</g>`)
	fmt.Fprintf(w, `<g class="axis x" data-scale="category" data-left="%d" data-width="%d"><line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#000000"/></g>`+"\n",
		plotL, plotW, plotL, num(bottom), plotL+plotW, num(bottom))
	slot := float64(plotW) / float64(max(len(sec.Bars), 1))
	for i, b := range sec.Bars {
		bx := plotL + slot*float64(i) + slot*0.2
		bw := slot * 0.6
		color := p.color(b.Impl)
		fmt.Fprintf(w, `<g class="bar" data-impl="%s" data-median="%g" data-min="%g" data-max="%g" font-family="sans-serif" font-size="12">`, esc(b.Impl), b.Median, b.Min, b.Max)
		fmt.Fprintf(w, `<title>%s: %s %s [%s..%s]</title>`, esc(b.Impl), esc(Count(b.Median)), esc(sec.Metric), esc(Count(b.Min)), esc(Count(b.Max)))
		fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, num(bx), num(yOf(b.Median)), num(bw), num(bottom-yOf(b.Median)), color)
		cx := bx + bw/2
		fmt.Fprintf(w, `<line class="range" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="1.5"/>`, num(cx), num(yOf(b.Min)), num(cx), num(yOf(b.Max)))
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(cx), num(yOf(b.Max)-6), esc(Count(b.Median)))
		fmt.Fprintf(w, `<text class="name" x="%s" y="%s" text-anchor="middle">%s</text></g>`+"\n", num(cx), num(bottom+16), esc(b.Impl))
	}
	fmt.Fprintln(w, `</svg>`)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// tickLabel writes a latency in µs with its unit, for axis ticks.
func tickLabel(v float64) string {
	v, unit := latencyUnit(v)
	return fmt.Sprintf("%g%s", v, unit)
}

// latencyLabel writes a latency in µs with a unit that keeps it short.
func latencyLabel(v float64) string {
	v, unit := latencyUnit(v)
	return fmt.Sprintf("%.3g %s", v, unit)
}

// latencyUnit scales a latency in µs to µs, ms or s.
func latencyUnit(v float64) (float64, string) {
	switch {
	case v >= 1e6:
		return v / 1e6, "s"
	case v >= 1e3:
		return v / 1e3, "ms"
	}
	return v, "µs"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// chartsHeight is the height of one size's charts stacked.
func (sec *sizeSection) chartsHeight() float64 {
	h := 0.0
	if len(sec.Spectra) > 0 {
		h += chartH
	}
	if len(sec.Bars) > 0 {
		h += chartH
	}
	return h
}

// writeSVG writes the picture as one standalone SVG image: a header,
// then each size's charts stacked.
func writeSVG(out io.Writer, p *picture) error {
	var w strings.Builder
	cfgLines := wrap(p.Config, 125)
	header := 70 + 14*float64(len(cfgLines))
	height := header
	for i := range p.Sizes {
		height += p.Sizes[i].chartsHeight() + 30
	}
	fmt.Fprintf(&w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" class="mqbench-report" width="%d" height="%s" viewBox="0 0 %d %s">`+"\n", chartW, num(height), chartW, num(height))
	fmt.Fprintf(&w, `<title>mqbench %s</title>`+"\n", esc(p.Command))
	fmt.Fprintf(&w, `<rect x="0" y="0" width="%d" height="%s" fill="#ffffff"/>`+"\n", chartW, num(height))
	fmt.Fprintf(&w, `<g class="header" font-family="sans-serif"><text x="10" y="24" font-size="18">mqbench %s</text>`, esc(p.Command))
	for i, l := range cfgLines {
		fmt.Fprintf(&w, `<text class="config" x="10" y="%d" font-size="11">%s</text>`, 46+14*i, esc(l))
	}
	fmt.Fprintf(&w, `<text class="env" x="10" y="%s" font-size="11">%s</text></g>`+"\n", num(header-10), esc(envLine(p.Env)))
	y := header
	for i := range p.Sizes {
		sec := &p.Sizes[i]
		if len(sec.Spectra) > 0 {
			writeSpectrum(&w, p, sec, 0, y)
			y += chartH
		}
		if len(sec.Bars) > 0 {
			writeBars(&w, p, sec, 0, y)
			y += chartH
		}
		for j, m := range sec.Missing {
			fmt.Fprintf(&w, `<text class="note" x="10" y="%s" font-family="sans-serif" font-size="11">%d B: %s</text>`+"\n", num(y+14+float64(j)*14), sec.Size, esc(m))
		}
		y += 30
	}
	fmt.Fprintln(&w, `</svg>`)
	_, err := io.WriteString(out, w.String())
	return err
}

// envLine describes where the run happened.
func envLine(e Env) string {
	dirty := ""
	if e.Dirty {
		dirty = " (modified)"
	}
	return fmt.Sprintf("%s %s/%s, cpu: %s (%d threads), GOMAXPROCS=%d, commit %s%s, %s",
		e.GoVersion, e.OS, e.Arch, e.CPU, e.NumCPU, e.GOMAXPROCS, e.Commit, dirty, e.Start.Format("2006-01-02 15:04 MST"))
}

// wrap breaks s at spaces into lines of at most n bytes (longer words
// stay whole).
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
