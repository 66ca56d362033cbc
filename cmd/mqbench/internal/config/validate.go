package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/brookmq/brook/cmd/mqbench/internal/payload"
)

// Limits on counts of things, to catch typos before they eat the machine.
const (
	maxClients  = 1024
	maxInflight = 1 << 16
	maxRounds   = 100
)

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
}

// validate checks every flag and every combination; set holds the names
// of the flags given explicitly.
func (c *Config) validate(set map[string]bool) error {
	for _, check := range []func(map[string]bool) error{
		c.validateWhat, c.validateWhere, c.validateHowLong, c.validateShape, c.validateOutputs,
		c.validateQUIC,
	} {
		if err := check(set); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateWhat(set map[string]bool) error {
	if c.Mode != Throughput && c.Mode != Latency {
		return usagef("--mode %q: want thr or lat", c.Mode)
	}
	if !slices.Contains(Patterns(), c.Pattern) {
		return usagef("unknown --pattern %q: want one of %s", c.Pattern, joinPatterns())
	}
	for _, s := range c.Sizes {
		if s < payload.HeaderSize {
			return usagef("--size %d is below %d bytes: every message carries a %d-byte header (sequence number and timestamps)", s, payload.HeaderSize, payload.HeaderSize)
		}
	}
	if c.Command == "compare" {
		return c.validateImpls()
	}
	if !slices.Contains(Impls(), c.Impl) {
		return usagef("unknown --impl %q: want one of %s", c.Impl, strings.Join(Impls(), ", "))
	}
	return nil
}

func (c *Config) validateImpls() error {
	if c.Role != Both {
		return usagef("compare runs every end in one process: --role must be both")
	}
	if c.Rounds < 1 || c.Rounds > maxRounds {
		return usagef("--rounds %d: want 1..%d", c.Rounds, maxRounds)
	}
	if len(c.Impls) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, name := range c.Impls {
		if !slices.Contains(Impls(), name) {
			return usagef("unknown implementation %q in --impls: want some of %s", name, strings.Join(Impls(), ", "))
		}
		if seen[name] {
			return usagef("--impls lists %q twice", name)
		}
		seen[name] = true
	}
	if c.Impls[0] != ImplBrook {
		return usagef("--impls must start with brook: ratios are brook/other")
	}
	if len(c.Impls) < 2 {
		return usagef("--impls needs brook and at least one other implementation")
	}
	return nil
}

func (c *Config) validateWhere(set map[string]bool) error {
	if c.Endpoint != "" {
		scheme, rest, ok := strings.Cut(c.Endpoint, "://")
		if !ok || rest == "" {
			return usagef("--endpoint %q: want scheme://address, e.g. tcp://127.0.0.1:5555", c.Endpoint)
		}
		scheme = strings.ToLower(scheme)
		if set["transport"] && scheme != c.Transport {
			return usagef("--endpoint %q does not match --transport %s", c.Endpoint, c.Transport)
		}
		c.Transport = scheme
	}
	if !slices.Contains(Transports(), c.Transport) {
		return usagef("unknown transport %q: want one of %s", c.Transport, strings.Join(Transports(), ", "))
	}
	if c.ReturnEndpoint != "" && !strings.HasPrefix(strings.ToLower(c.ReturnEndpoint), c.Transport+"://") {
		return usagef("--return-endpoint %q must use the same transport as the endpoint (%s)", c.ReturnEndpoint, c.Transport)
	}
	switch c.Role {
	case Both:
	case Local, Remote:
		if c.Transport == "inproc" {
			return usagef("--role %s runs the ends in two processes, which inproc cannot connect: use tcp or ipc", c.Role)
		}
		if c.Role == Remote && c.Endpoint == "" {
			return usagef("--role remote needs --endpoint: the address the local side printed")
		}
	default:
		return usagef("unknown --role %q: want both, local or remote", c.Role)
	}
	return nil
}

func (c *Config) validateHowLong(set map[string]bool) error {
	if c.Count < 0 || (set["count"] && c.Count == 0) {
		return usagef("--count %d: want a positive number of messages", c.Count)
	}
	if c.Duration < 0 || (set["duration"] && c.Duration == 0) {
		return usagef("--duration %s: want a positive duration", c.Duration)
	}
	if set["count"] && set["duration"] {
		return usagef("--count and --duration exclude each other: give one")
	}
	if c.Warmup < 0 {
		return usagef("--warmup %s: want >= 0", c.Warmup)
	}
	if c.Rate < 0 {
		return usagef("--rate %g: want msgs/s > 0 (or 0 for closed loop)", c.Rate)
	}
	if c.Pacer != PacerSleep && c.Pacer != PacerSpin {
		return usagef("--pacer %q: want sleep or spin", c.Pacer)
	}
	if c.Rate > 0 && !set["count"] && !set["duration"] {
		return usagef("--rate needs --duration or --count: an open-loop run must know when to stop")
	}
	if c.Timeout < 0 {
		return usagef("--timeout %s: want >= 0", c.Timeout)
	}
	if c.IdleTimeout <= 0 {
		return usagef("--idle-timeout %s: want > 0", c.IdleTimeout)
	}
	return nil
}

func (c *Config) validateShape(set map[string]bool) error {
	if c.Clients < 1 || c.Clients > maxClients {
		return usagef("--clients %d: want 1..%d", c.Clients, maxClients)
	}
	if c.Subscribers < 1 || c.Subscribers > maxClients {
		return usagef("--subscribers %d: want 1..%d", c.Subscribers, maxClients)
	}
	if c.Inflight < 0 || c.Inflight > maxInflight {
		return usagef("--inflight %d: want 1..%d", c.Inflight, maxInflight)
	}
	if c.HWM < 0 {
		return usagef("--hwm %d: want >= 0", c.HWM)
	}
	if c.Curve && c.Transport != "tcp" && c.Transport != "ipc" {
		return usagef("--curve needs tcp or ipc (CURVE is a ZMTP mechanism; quic has TLS)")
	}
	switch {
	case c.Pattern == PubSub && c.Clients != 1:
		return usagef("pubsub has one publisher: --clients does not apply, use --subscribers")
	case c.Pattern != PubSub && c.Subscribers != 1:
		return usagef("--subscribers applies to pubsub only")
	case c.Pattern == Pair && c.Clients != 1:
		return usagef("pair connects exactly two sockets: --clients must be 1")
	case c.Pattern == ReqRep && c.Inflight > 1:
		return usagef("REQ allows one request in flight: --inflight must be 1 (use dealerrouter for a window)")
	case c.Pattern == PushPull && c.Mode == Latency && c.Clients != 1:
		return usagef("pushpull latency echoes over one return PUSH/PULL path: --clients must be 1 (reqrep and dealerrouter take many)")
	case !c.RoundTrip() && set["inflight"]:
		return usagef("--inflight applies to round trips (lat, reqrep, dealerrouter), not to %s %s", c.Pattern, c.Mode)
	}
	return nil
}

func (c *Config) validateOutputs(set map[string]bool) error {
	if c.JSON == "-" && c.CSV == "-" {
		return usagef("--json - and --csv - both want stdout: send one to a file")
	}
	if c.HGRM == "-" {
		return usagef("--hgrm writes one file per histogram: give a path")
	}
	if ext := strings.ToLower(filepath.Ext(c.Report)); c.Report != "" && ext != ".html" && ext != ".htm" && ext != ".svg" {
		return usagef("--report %q: the file name must end in .html or .svg", c.Report)
	}
	return nil
}

// applyDefaults fills what the user left to mqbench.
func (c *Config) applyDefaults(set map[string]bool) {
	if !set["count"] && !set["duration"] {
		c.Count = DefaultThroughputCount
		if c.Mode == Latency {
			c.Count = DefaultLatencyCount
		}
	}
	if c.Inflight == 0 {
		c.Inflight = 1
		if c.Mode == Throughput && c.Pattern == DealerRouter {
			c.Inflight = DefaultDealerInflight
		}
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Minute
		if c.Duration > 0 {
			runs := len(c.Sizes)
			if c.Command == "compare" {
				runs *= c.Rounds * max(len(c.Impls), len(Impls()))
			}
			c.Timeout = time.Duration(runs)*(c.Duration+c.Warmup) + time.Minute
		}
	}
}

func joinPatterns() string {
	names := make([]string, 0, len(Patterns()))
	for _, p := range Patterns() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
