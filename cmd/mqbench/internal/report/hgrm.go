package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// HGRMPath is the file a result's histogram goes to: path itself when
// there is one result, otherwise path with "-<impl>-<size>B" (and the
// round for compare) before its extension.
func HGRMPath(path string, r *workload.Result, many bool, round int) string {
	if !many {
		return path
	}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	if ext == "" {
		ext = ".hgrm"
	}
	suffix := fmt.Sprintf("-%s-%dB", r.Impl, r.Size)
	if round > 0 {
		suffix += fmt.Sprintf("-round%d", round)
	}
	return base + suffix + ext
}

// WriteHGRM writes r's corrected latency histogram (µs) to path. Results
// that were not measured in this process have none and are skipped.
func WriteHGRM(path string, r *workload.Result) error {
	h := r.Histogram()
	if h == nil {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mqbench: hgrm: %w", err)
	}
	if err := h.WriteHGRM(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mqbench: hgrm: %w", err)
	}
	return nil
}
