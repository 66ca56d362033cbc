package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// progressEvery is how often the progress bar redraws.
const progressEvery = 200 * time.Millisecond

// barWidth is the number of cells of the bar.
const barWidth = 30

// StartProgress draws a one-line progress bar for p on w (a terminal)
// until the returned stop is called, which erases it. label prefixes the
// line.
func StartProgress(w io.Writer, p *workload.Progress, label string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				fmt.Fprintf(w, "\r\033[K%s", progressLine(p, label, now))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// progressLine renders the bar for the current state of p.
func progressLine(p *workload.Progress, label string, now time.Time) string {
	done, total, deadline := p.Done.Load(), p.Total.Load(), p.Deadline.Load()
	frac := 0.0
	switch {
	case deadline > 0:
		if begin := p.Begin.Load(); deadline > begin {
			frac = float64(now.UnixNano()-begin) / float64(deadline-begin)
		}
	case total > 0:
		frac = float64(done) / float64(total)
	}
	frac = min(max(frac, 0), 1)
	cells := int(frac * barWidth)
	bar := strings.Repeat("=", cells) + strings.Repeat(" ", barWidth-cells)
	return fmt.Sprintf("%s size#%d [%s] %3.0f%% %d msgs", label, p.Phase.Load()+1, bar, frac*100, done)
}
