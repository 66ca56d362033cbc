package metrics

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by AddSocket and AddJournal, matched with errors.Is.
var (
	// ErrDuplicateName means a source of the same kind is already added
	// under that name.
	ErrDuplicateName = errors.New("brook: metrics: name already in use")
	// ErrBadSource means the name is empty or the source is nil.
	ErrBadSource = errors.New("brook: metrics: bad source")
)

// Socket is what the collector reads from a socket; *socket.Socket
// satisfies it.
type Socket interface {
	Type() socket.Type
	Stats() socket.Stats
}

// Journal is what the collector reads from a journal; *durable.Log
// satisfies it.
type Journal interface {
	Stats() durable.Stats
}

// Collector is a prometheus.Collector for brook sockets and journals.
// Register it once and add or remove sources at any time; its methods are
// safe for concurrent use, also with a scrape in progress.
type Collector struct {
	opts options
	sock socketDescs
	peer peerDescs
	jsck jsocketDescs
	jrnl journalDescs

	mu       sync.Mutex
	sockets  map[string]Socket
	journals map[string]Journal
}

// New returns a Collector with no sources.
func New(opts ...Option) *Collector {
	o := options{peers: true}
	for _, opt := range opts {
		opt(&o)
	}
	return &Collector{
		opts: o, sock: newSocketDescs(), peer: newPeerDescs(), jsck: newJSocketDescs(), jrnl: newJournalDescs(),
		sockets: map[string]Socket{}, journals: map[string]Journal{},
	}
}

// AddSocket adds s under name, the value of its socket label. A socket
// may be added under several names (each is exported); a name only once.
func (c *Collector) AddSocket(name string, s Socket) error {
	return add(c, c.sockets, "socket", name, s, s == nil)
}

// RemoveSocket stops exporting the socket added under name, and reports
// whether there was one. Remove a socket before or after closing it: a
// closed socket's Stats still answer, with its last counters.
func (c *Collector) RemoveSocket(name string) bool { return remove(c, c.sockets, name) }

// AddJournal adds j under name, the value of its journal label.
func (c *Collector) AddJournal(name string, j Journal) error {
	return add(c, c.journals, "journal", name, j, j == nil)
}

// RemoveJournal stops exporting the journal added under name, and reports
// whether there was one.
func (c *Collector) RemoveJournal(name string) bool { return remove(c, c.journals, name) }

// add puts src in m under name, under c's lock.
func add[T any](c *Collector, m map[string]T, kind, name string, src T, isNil bool) error {
	if name == "" || isNil {
		return fmt.Errorf("%w: %s %q", ErrBadSource, kind, name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := m[name]; ok {
		return fmt.Errorf("%w: %s %q", ErrDuplicateName, kind, name)
	}
	m[name] = src
	return nil
}

// remove deletes name from m under c's lock.
func remove[T any](c *Collector, m map[string]T, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := m[name]
	delete(m, name)
	return ok
}

// Describe sends the descriptors of every metric the collector can
// export (prometheus.Collector).
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.sock.all() {
		ch <- d
	}
	if c.opts.peers {
		for _, d := range c.peer.all() {
			ch <- d
		}
	}
	for _, d := range c.jsck.all() {
		ch <- d
	}
	for _, d := range c.jrnl.all() {
		ch <- d
	}
}

// Collect reads every source's Stats and sends their metrics, sources in
// name order (prometheus.Collector). The sources are read without the
// collector's lock held.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	socks, journals := c.snapshot()
	for _, s := range socks {
		typ := s.src.Type().String()
		st := s.src.Stats()
		c.sock.collect(ch, s.name, typ, &st)
		if c.opts.peers {
			c.peer.collect(ch, s.name, typ, st.Peers)
		}
		c.jsck.collect(ch, s.name, typ, st.Journal)
	}
	for _, j := range journals {
		st := j.src.Stats()
		c.jrnl.collect(ch, j.name, &st)
	}
}

type named[T any] struct {
	name string
	src  T
}

// snapshot copies the sources, sorted by name.
func (c *Collector) snapshot() ([]named[Socket], []named[Journal]) {
	c.mu.Lock()
	socks := make([]named[Socket], 0, len(c.sockets))
	for n, s := range c.sockets {
		socks = append(socks, named[Socket]{n, s})
	}
	journals := make([]named[Journal], 0, len(c.journals))
	for n, j := range c.journals {
		journals = append(journals, named[Journal]{n, j})
	}
	c.mu.Unlock()
	sort.Slice(socks, func(i, j int) bool { return socks[i].name < socks[j].name })
	sort.Slice(journals, func(i, j int) bool { return journals[i].name < journals[j].name })
	return socks, journals
}
