// Package patterntest drives brook's routing state machines (package
// patterns) without any network: Pipe is a fake peer that records what a
// pattern queues on it and can simulate a full queue, a closed pipe or a
// changed peer identity, and Drops records every drop a pattern reports.
// The package's tests are table tests of each socket type's state
// machine; other packages may use the fakes for their own.
package patterntest

import (
	"context"
	"sync"

	"github.com/brookmq/brook/patterns"
	"github.com/brookmq/brook/transport"
)

// Kind says what an Item queued on a Pipe is.
type Kind int

// Item kinds.
const (
	// Data is an application message (Pipe.TrySend).
	Data Kind = iota + 1
	// Subscribe and Cancel are subscription commands.
	Subscribe
	Cancel
)

// String returns "data", "subscribe" or "cancel".
func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Subscribe:
		return "subscribe"
	case Cancel:
		return "cancel"
	}
	return "kind?"
}

// Item is one thing queued on a Pipe, in the order a writer would send it.
type Item struct {
	Kind  Kind
	Msg   patterns.Msg // Data
	Topic []byte       // Subscribe, Cancel
}

// Pipe is a fake patterns.Pipe. Its high-water mark counts Data items
// only, as the socket's pipes do; Take plays the writer draining the
// queue. It is safe for concurrent use.
type Pipe struct {
	id uint64

	mu          sync.Mutex
	peer        transport.PeerInfo
	hwm         int
	items       []Item
	data        int
	refused     int
	refusedC    chan struct{} // closed and replaced at each refusal
	closed      bool
	disconnects int
}

var _ patterns.Pipe = (*Pipe)(nil)
var _ patterns.Disconnecter = (*Pipe)(nil)

// NewPipe returns a pipe with the given id (unique per test) whose peer
// announced socket type peerType and routing id identity (nil: none).
// Its high-water mark is unlimited until SetHWM.
func NewPipe(id uint64, peerType string, identity []byte) *Pipe {
	return &Pipe{id: id, peer: transport.PeerInfo{SocketType: peerType, Identity: identity, Version: 31}}
}

// ID implements patterns.Pipe.
func (p *Pipe) ID() uint64 { return p.id }

// Peer implements patterns.Pipe.
func (p *Pipe) Peer() transport.PeerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peer
}

// SetPeer changes what the peer announced (a reconnection to another
// process).
func (p *Pipe) SetPeer(info transport.PeerInfo) {
	p.mu.Lock()
	p.peer = info
	p.mu.Unlock()
}

// SetHWM sets the number of queued Data items at which TrySend refuses
// (0: unlimited).
func (p *Pipe) SetHWM(n int) {
	p.mu.Lock()
	p.hwm = n
	p.mu.Unlock()
}

// Close makes the pipe refuse everything, like a pipe whose peer left.
func (p *Pipe) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// TrySend implements patterns.Pipe.
func (p *Pipe) TrySend(m patterns.Msg) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || (p.hwm > 0 && p.data >= p.hwm) {
		p.refused++
		if p.refusedC != nil {
			close(p.refusedC)
			p.refusedC = nil
		}
		return false
	}
	p.items = append(p.items, Item{Kind: Data, Msg: m})
	p.data++
	return true
}

// SendSubscription implements patterns.Pipe.
func (p *Pipe) SendSubscription(topic []byte, subscribe bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	k := Cancel
	if subscribe {
		k = Subscribe
	}
	p.items = append(p.items, Item{Kind: k, Topic: topic})
}

// ResetSubscriptions implements patterns.Pipe: queued subscription
// commands are discarded and topics queued as subscriptions in front.
func (p *Pipe) ResetSubscriptions(topics [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	items := make([]Item, 0, len(topics)+len(p.items))
	for _, t := range topics {
		items = append(items, Item{Kind: Subscribe, Topic: t})
	}
	for _, it := range p.items {
		if it.Kind == Data {
			items = append(items, it)
		}
	}
	p.items = items
}

// DisconnectPeer implements patterns.Disconnecter by counting the calls.
func (p *Pipe) DisconnectPeer() {
	p.mu.Lock()
	p.disconnects++
	p.mu.Unlock()
}

// Disconnects returns how often DisconnectPeer was called.
func (p *Pipe) Disconnects() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.disconnects
}

// Refused returns how many TrySend calls were refused.
func (p *Pipe) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// WaitRefused waits until TrySend has been refused at least n times in
// all (a sender tried a full pipe), or ctx ends.
func (p *Pipe) WaitRefused(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		if p.refused >= n {
			p.mu.Unlock()
			return nil
		}
		if p.refusedC == nil {
			p.refusedC = make(chan struct{})
		}
		c := p.refusedC
		p.mu.Unlock()
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Take removes and returns everything queued, as the writer would.
func (p *Pipe) Take() []Item {
	p.mu.Lock()
	defer p.mu.Unlock()
	items := p.items
	p.items, p.data = nil, 0
	return items
}

// TakeData is Take keeping only the Data items' messages.
func (p *Pipe) TakeData() []patterns.Msg {
	var out []patterns.Msg
	for _, it := range p.Take() {
		if it.Kind == Data {
			out = append(out, it.Msg)
		}
	}
	return out
}

// Queued returns how many Data items are queued.
func (p *Pipe) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data
}

// Drop is one drop a pattern reported.
type Drop struct {
	Pipe   uint64 // 0 when the pattern gave no pipe
	Msg    patterns.Msg
	Tag    patterns.Tag // the inbound message's tag
	Reason patterns.DropReason
}

// Drops records drops; its OnDrop is a patterns.Config.OnDrop. It is safe
// for concurrent use.
type Drops struct {
	mu   sync.Mutex
	list []Drop
}

// OnDrop records one drop.
func (d *Drops) OnDrop(x patterns.Drop) {
	var id uint64
	if x.Pipe != nil {
		id = x.Pipe.ID()
	}
	d.mu.Lock()
	d.list = append(d.list, Drop{Pipe: id, Msg: x.Msg, Tag: x.Tag, Reason: x.Reason})
	d.mu.Unlock()
}

// All returns the drops recorded so far.
func (d *Drops) All() []Drop {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Drop(nil), d.list...)
}

// Count returns how many drops had reason r.
func (d *Drops) Count(r patterns.DropReason) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.list {
		if x.Reason == r {
			n++
		}
	}
	return n
}

// Connect attaches p to pat and reports its handshake (to a
// patterns.PeerWatcher), as the socket does for a new peer.
func Connect(pat patterns.Pattern, p patterns.Pipe) {
	pat.Attach(p)
	if w, ok := pat.(patterns.PeerWatcher); ok {
		w.Connected(p)
	}
}

// Leave reports p's disconnection (to a patterns.PeerWatcher) and
// removal, as the socket does when an accepted peer goes away.
func Leave(pat patterns.Pattern, p patterns.Pipe) {
	if w, ok := pat.(patterns.PeerWatcher); ok {
		w.Disconnected(p)
	}
	pat.Detach(p)
}

// Msg builds a message from strings.
func Msg(frames ...string) patterns.Msg {
	m := patterns.Msg{Frames: make([][]byte, len(frames))}
	for i, f := range frames {
		m.Frames[i] = []byte(f)
	}
	return m
}

// Strings returns a message's frames as strings.
func Strings(m patterns.Msg) []string {
	out := make([]string, len(m.Frames))
	for i, f := range m.Frames {
		out[i] = string(f)
	}
	return out
}
