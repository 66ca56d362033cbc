package faultproxy

import (
	"fmt"
	"time"
)

// Direction selects one or both directions of the proxied connections.
type Direction uint8

const (
	// ToTarget is the bytes a client sends to the target.
	ToTarget Direction = 1 << iota
	// ToClient is the bytes the target sends back to the client.
	ToClient
	// Both is ToTarget and ToClient.
	Both = ToTarget | ToClient
)

// String returns "to-target", "to-client" or "both".
func (d Direction) String() string {
	switch d {
	case ToTarget:
		return "to-target"
	case ToClient:
		return "to-client"
	case Both:
		return "both"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// indexes returns the direction indexes d selects (0 = ToTarget, 1 =
// ToClient). An invalid Direction is a bug in the calling test: it panics.
func (d Direction) indexes() []int {
	switch d {
	case ToTarget:
		return []int{0}
	case ToClient:
		return []int{1}
	case Both:
		return []int{0, 1}
	}
	panic(fmt.Sprintf("faultproxy: invalid %v", d))
}

// bit returns the Direction of index i.
func bit(i int) Direction { return Direction(1 << i) }

// mode is what a direction does with the bytes it reads.
type mode uint8

const (
	modePass mode = iota
	modeStall
	modeBlackHole
)

// dirState is the controls and counters of one direction, shared by every
// connection. Guarded by Proxy.mu.
type dirState struct {
	mode    mode
	latency time.Duration
	rate    int64     // bytes per second; 0 = unlimited
	rateGen uint64    // bumped by SetBandwidth, so a paced wait notices
	free    time.Time // when the direction's link has carried what was reserved
	flow    Flow
}

// cutState is an armed CutAfter.
type cutState struct {
	dirs Direction
	left int64
	done chan struct{}
}

// Pass makes the directions d forward bytes again, lifting Stall and
// BlackHole. Latency, bandwidth and an armed cut are left as they are.
func (p *Proxy) Pass(d Direction) { p.setMode(d, modePass) }

// Stall stops forwarding in the directions d without touching the
// connections: the proxy stops reading from the sending side, so its
// bytes stay in the kernel's buffers (plus up to 128 KiB the proxy had
// read already) and, once those are full, its writes block, as they do
// behind a frozen peer (SIGSTOP). Nothing is lost: Pass delivers what was
// held, in order. A stalled direction also does not notice its sender
// closing or resetting until it is passed again.
func (p *Proxy) Stall(d Direction) { p.setMode(d, modeStall) }

// BlackHole makes the directions d read and discard: the sender's writes
// succeed and nothing arrives, like a link that silently drops. Bytes the
// proxy held are discarded too. Discarded bytes are counted in
// Flow.Discarded; Pass forwards again from the next byte read.
func (p *Proxy) BlackHole(d Direction) { p.setMode(d, modeBlackHole) }

func (p *Proxy) setMode(d Direction, m mode) {
	p.update(d, func(ds *dirState) { ds.mode = m })
}

// update applies set to the state of the directions d and wakes every
// pump waiting on a control.
func (p *Proxy) update(d Direction, set func(*dirState)) {
	idx := d.indexes()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, i := range idx {
		set(&p.dirs[i])
	}
	p.changedLocked()
}

// CutAfter arms a cut: the next n bytes forwarded in the directions d
// (counted together, over all connections) pass, and the connection that
// carried the last of them is cut right after it. The side receiving
// those bytes gets exactly them and then the end of the stream (FIN); the
// proxy then discards whatever that side still sends until it closes. The
// sending side gets a reset (RST) at once. Bytes in flight the other way
// are lost. With n == 0 the connection is cut when it next has a byte to
// forward in d. The cut fires once; the returned channel is closed when
// it has. A later CutAfter replaces an armed cut that has not fired (its
// channel then never closes), and Heal disarms it.
func (p *Proxy) CutAfter(d Direction, n int64) <-chan struct{} {
	d.indexes() // validates d
	if n < 0 {
		panic(fmt.Sprintf("faultproxy: CutAfter(%v, %d): negative byte count", d, n))
	}
	c := &cutState{dirs: d, left: n, done: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = c
	p.changedLocked()
	return c.done
}

// SetBandwidth limits the directions d to bytesPerSecond each, shared by
// all connections as on one link; 0 removes the limit. Bytes go out in
// pieces of about 20 ms of traffic, each after the time the link needs to
// carry it, so the rate holds over spans longer than that. A new limit
// applies at once, also to bytes waiting for the old one.
func (p *Proxy) SetBandwidth(d Direction, bytesPerSecond int64) {
	if bytesPerSecond < 0 {
		panic(fmt.Sprintf("faultproxy: SetBandwidth(%v, %d): negative rate", d, bytesPerSecond))
	}
	p.update(d, func(ds *dirState) { ds.setRate(bytesPerSecond) })
}

// setRate sets the rate and starts the link's timeline afresh, so pieces
// paced under the old rate are paced again under the new one.
func (ds *dirState) setRate(bytesPerSecond int64) {
	ds.rate = bytesPerSecond
	ds.rateGen++
	ds.free = time.Time{}
}

// SetLatency delays every byte in the directions d by delay after the
// proxy read it; 0 removes the delay. Reading goes on meanwhile, so a
// connection keeps up to 128 KiB in flight per direction, as on a long
// link. A new delay applies at once, also to bytes already waiting.
func (p *Proxy) SetLatency(d Direction, delay time.Duration) {
	if delay < 0 {
		panic(fmt.Sprintf("faultproxy: SetLatency(%v, %v): negative delay", d, delay))
	}
	p.update(d, func(ds *dirState) { ds.latency = delay })
}

// ResetAll resets every open connection now, on both sides: the proxy
// closes both sockets with SO_LINGER 0, so each peer gets a TCP reset
// (ECONNRESET) and whatever was in flight is lost. It returns how many
// connections it reset. New connections are accepted as before.
func (p *Proxy) ResetAll() int {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	n := 0
	for _, l := range links {
		if l.reset() {
			n++
		}
	}
	p.mu.Lock()
	p.stats.Resets += int64(n)
	p.statsChangedLocked()
	p.mu.Unlock()
	return n
}

// Heal lifts every fault: both directions pass, with no latency and no
// bandwidth limit, an armed cut is disarmed, and new connections are
// accepted. The error is SetRefusing's.
func (p *Proxy) Heal() error {
	p.update(Both, func(ds *dirState) {
		ds.mode = modePass
		ds.latency = 0
		ds.setRate(0)
	})
	p.mu.Lock()
	p.cut = nil
	p.mu.Unlock()
	return p.SetRefusing(false)
}

// changedLocked wakes every pump waiting on a control. p.mu is held.
func (p *Proxy) changedLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}
