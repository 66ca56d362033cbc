// Package config turns mqbench's command line into a validated Config:
// which workload to run (throughput or latency, pattern, transport,
// sizes), how long, how hard (clients, in-flight window, rate), against
// which implementation, and where to write the results.
package config

import (
	"errors"
	"time"
)

// ErrUsage marks every command-line error: an unknown subcommand or flag,
// a malformed value, or a combination that makes no sense. The message
// says which flag is wrong and why.
var ErrUsage = errors.New("brook: mqbench: bad command line")

// Mode is the measurement a run makes.
type Mode string

// Modes.
const (
	// Throughput (mqbench thr): as many messages per second as the
	// pattern carries; one-way patterns stream, request/reply patterns
	// keep their in-flight window full.
	Throughput Mode = "thr"
	// Latency (mqbench lat): round trips, one in flight unless --inflight
	// says otherwise; one-way patterns echo over a return PUSH/PULL path.
	Latency Mode = "lat"
)

// Pattern is a ZeroMQ messaging pattern.
type Pattern string

// Patterns.
const (
	PushPull     Pattern = "pushpull"
	PubSub       Pattern = "pubsub"
	ReqRep       Pattern = "reqrep"
	DealerRouter Pattern = "dealerrouter"
	Pair         Pattern = "pair"
)

// Patterns lists every pattern, in the order shown in help texts.
func Patterns() []Pattern { return []Pattern{PushPull, PubSub, ReqRep, DealerRouter, Pair} }

// OneWay reports whether the pattern's data flows in one direction only
// (its latency runs need a return path).
func (p Pattern) OneWay() bool { return p == PushPull || p == PubSub }

// Transports lists the transport names --transport accepts.
func Transports() []string { return []string{"tcp", "ipc", "inproc", "quic", "zstd+tcp"} }

// Role says which ends of the workload this process runs.
type Role string

// Roles.
const (
	// Both runs every end in this process.
	Both Role = "both"
	// Local runs the binding end (like libzmq's local_thr/local_lat): the
	// PULL, REP, ROUTER or PAIR that binds, or the PUB for pubsub.
	Local Role = "local"
	// Remote runs the connecting end(s).
	Remote Role = "remote"
)

// Pacers.
const (
	// PacerSleep sleeps until each message is due: cheap, but Go's timers
	// wake up to ~1 ms late on common Linux machines, which shows as send
	// delay.
	PacerSleep = "sleep"
	// PacerSpin sleeps, then busy-waits the last 2 ms: µs-precise
	// schedules for the price of a core.
	PacerSpin = "spin"
)

// Impl names.
const (
	ImplBrook  = "brook"
	ImplZmq4   = "zmq4"
	ImplLibzmq = "libzmq"
	ImplRaw    = "raw"
)

// Impls lists every implementation name, brook first.
func Impls() []string { return []string{ImplBrook, ImplZmq4, ImplLibzmq, ImplRaw} }

// Config is one validated mqbench invocation.
type Config struct {
	// Command is "thr", "lat", "compare" or "journal".
	Command string
	// Mode is the measurement (for compare, the mode given by --mode).
	Mode      Mode
	Pattern   Pattern
	Transport string
	// Endpoint is where the binding end binds and the connecting ends
	// connect; empty means a fresh local endpoint for the transport.
	Endpoint string
	// ReturnEndpoint carries echoes (one-way latency) and subscriber
	// readiness (pubsub); empty means derived from Endpoint.
	ReturnEndpoint string
	// Sizes are the message sizes in bytes, one run each.
	Sizes []int
	// Count is the number of measured messages (round trips for
	// request/reply) per size, across all clients; 0 when Duration is
	// used instead.
	Count int64
	// Duration bounds each size's measured phase instead of Count.
	Duration time.Duration
	// Warmup is sent before each measured phase and discarded.
	Warmup time.Duration
	// Clients is the number of connecting senders (pushpull, reqrep,
	// dealerrouter).
	Clients int
	// Inflight is each client's window of unanswered requests.
	Inflight int
	// HWM is the send and receive high-water mark; 0 keeps each
	// implementation's default.
	HWM int
	// Subscribers is the number of SUB sockets (pubsub).
	Subscribers int
	// Rate is the total open-loop send rate in messages per second; 0
	// means closed loop (as fast as possible).
	Rate float64
	// Pacer is how an open-loop sender waits for a message's due time.
	Pacer string
	Role  Role
	// QUIC names the certificate files of quic:// runs.
	QUIC QUIC
	// Curve turns CURVE (RFC 26) on for every socket of a tcp or ipc run:
	// the binding side is the server, the connecting side its client,
	// with benchmark-only keys both sides know (brook and libzmq).
	Curve bool
	// Impl is the implementation for thr and lat.
	Impl string
	// Impls and Rounds drive compare.
	Impls  []string
	Rounds int
	// JSON, CSV and HGRM are output paths ("" none, "-" stdout).
	JSON, CSV, HGRM string
	// Report is the path of an HTML (.html) or SVG (.svg) report; "" none.
	Report string
	// CPUProfile is the path of a CPU profile of the whole run ("" none):
	// thr, lat and compare (all implementations in one profile).
	CPUProfile string
	// Timeout bounds the whole run; IdleTimeout ends a receiver that
	// has heard nothing for that long in the middle of a phase.
	Timeout     time.Duration
	IdleTimeout time.Duration
	// Journal configures mqbench journal (nil for the other commands).
	Journal *Journal
}

// Fanout is how many receivers each message of the driver reaches.
func (c *Config) Fanout() int {
	if c.Pattern == PubSub {
		return c.Subscribers
	}
	return 1
}

// Drivers is the number of sending clients.
func (c *Config) Drivers() int {
	if c.Pattern == PubSub {
		return 1
	}
	return c.Clients
}

// RoundTrip reports whether the run measures round trips (every latency
// run, and throughput over request/reply patterns).
func (c *Config) RoundTrip() bool {
	return c.Mode == Latency || c.Pattern == ReqRep || c.Pattern == DealerRouter
}
