package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/brookmq/brook/cmd/mqbench/internal/compare"
	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// Document is mqbench's JSON output.
type Document struct {
	Command string            `json:"command"`
	Config  string            `json:"config"`
	Env     Env               `json:"env"`
	Results []workload.Result `json:"results"`
	// Compare is set by mqbench compare.
	Compare *compare.Comparison `json:"compare,omitempty"`
	// Error is the run's error, if it failed.
	Error string `json:"error,omitempty"`
}

// JSON writes doc, indented.
func JSON(w io.Writer, doc *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("mqbench: write json: %w", err)
	}
	return nil
}
