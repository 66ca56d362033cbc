package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/brookmq/brook/cmd/mqbench/internal/workload"
)

// csvHeader names CSV's columns.
func csvHeader() []string {
	return []string{
		"impl", "mode", "pattern", "transport", "role", "size", "clients", "subscribers", "inflight", "hwm", "rate",
		"measured", "latency_kind", "sent", "received", "lost", "out_of_order", "dropped", "elapsed_s", "msgs_per_s", "mb_per_s",
		"min_us", "p50_us", "p90_us", "p99_us", "p99_9_us", "p99_99_us", "max_us", "mean_us",
		"uncorrected_p50_us", "uncorrected_p99_us", "send_delay_p50_us", "send_delay_p99_us",
	}
}

// CSV writes one row per result, with a header.
func CSV(w io.Writer, results []workload.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader()); err != nil {
		return fmt.Errorf("mqbench: write csv: %w", err)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for i := range results {
		r := &results[i]
		row := []string{
			r.Impl, r.Mode, r.Pattern, r.Transport, r.Role, strconv.Itoa(r.Size), strconv.Itoa(r.Clients),
			strconv.Itoa(r.Subscribers), strconv.Itoa(r.Inflight), strconv.Itoa(r.HWM), f(r.Rate),
			strconv.FormatBool(r.Measured), r.Latency, u(r.Sent), u(r.Received), u(r.Lost), u(r.OutOfOrder), u(r.Dropped),
			f(r.ElapsedSec), f(r.MsgsPerSec), f(r.MBPerSec),
			f(r.Corrected.Min), f(r.Corrected.P50), f(r.Corrected.P90), f(r.Corrected.P99), f(r.Corrected.P999),
			f(r.Corrected.P9999), f(r.Corrected.Max), f(r.Corrected.Mean),
			f(r.Uncorrected.P50), f(r.Uncorrected.P99), f(r.SendDelay.P50), f(r.SendDelay.P99),
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("mqbench: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("mqbench: write csv: %w", err)
	}
	return nil
}
