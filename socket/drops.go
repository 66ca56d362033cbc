package socket

import (
	"sync"
	"time"

	"github.com/brookmq/brook/patterns"
)

// dropEventInterval bounds how often EventDropped is emitted for one peer
// and reason: the first drop after a quiet interval is reported at once,
// later ones are summed and reported together when the interval ends, so
// a PUB sending into the void costs one event per interval, not one per
// message. The counters in Stats are exact at all times.
const dropEventInterval = 100 * time.Millisecond

// dropKey is what drop events are aggregated by.
type dropKey struct {
	peer     uint64
	endpoint string
	reason   DropReason
}

// dropEvents aggregates drops into monitor events.
type dropEvents struct {
	mu      sync.Mutex
	last    time.Time
	pending map[dropKey]int
	order   []dropKey // pending keys in the order they first dropped
	timer   *time.Timer
	wg      sync.WaitGroup // a scheduled flush
	closed  bool
}

// dropped counts n messages dropped for reason r (p may be nil) and
// reports them as an EventDropped, aggregated per dropEventInterval.
func (s *Socket) dropped(p patterns.Pipe, r DropReason, n int) {
	if n <= 0 {
		return
	}
	s.ctr.drop(r, n)
	k := dropKey{reason: r}
	if p != nil {
		k.peer = p.ID()
		if pp, ok := p.(*pipe); ok {
			k.endpoint = pp.endpoint
		}
	}
	s.drop.add(&s.mon, k, n)
}

func (d *dropEvents) add(mon *monitor, k dropKey, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.closed || (len(d.pending) == 0 && now.Sub(d.last) >= dropEventInterval) {
		d.last = now
		mon.emit(k.event(n))
		return
	}
	if d.pending == nil {
		d.pending = make(map[dropKey]int)
	}
	if _, ok := d.pending[k]; !ok {
		d.order = append(d.order, k)
	}
	d.pending[k] += n
	if d.timer == nil {
		d.wg.Add(1)
		d.timer = time.AfterFunc(d.last.Add(dropEventInterval).Sub(now), func() {
			defer d.wg.Done()
			d.flush(mon)
		})
	}
}

// flush emits every pending aggregate.
func (d *dropEvents) flush(mon *monitor) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timer = nil
	d.last = time.Now()
	for _, k := range d.order {
		mon.emit(k.event(d.pending[k]))
	}
	clear(d.pending)
	d.order = d.order[:0]
}

// close reports what is pending at once; later drops are reported one by
// one (a closing socket's last drops are few: what its pipes still held).
func (d *dropEvents) close(mon *monitor) {
	d.mu.Lock()
	if d.timer != nil && d.timer.Stop() {
		d.timer = nil
		d.wg.Done()
	}
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
	d.flush(mon)
}

func (k dropKey) event(n int) Event {
	return Event{Type: EventDropped, Reason: k.reason, Count: n, PeerID: k.peer, Endpoint: k.endpoint}
}
