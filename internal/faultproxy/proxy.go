package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned by a closed Proxy's SetRefusing and WaitStats. It
// matches net.ErrClosed.
var ErrClosed = fmt.Errorf("faultproxy: proxy closed: %w", net.ErrClosed)

// Proxy forwards TCP connections from its own address to a target,
// injecting the faults its controls ask for. All methods are safe for
// concurrent use, also while bytes flow.
type Proxy struct {
	target  string
	addr    string
	clk     clock
	ctx     context.Context // ends with Close: aborts dials to the target
	cancel  context.CancelFunc
	release func() error // frees the reserved port
	bufs    sync.Pool    // *[]byte of chunkSize
	wg      sync.WaitGroup

	mu       sync.Mutex
	ln       net.Listener // nil while refusing by not listening, and once closed
	refusing bool
	closed   bool
	links    map[*link]struct{}
	dirs     [2]dirState
	cut      *cutState
	stats    Stats         // connection counters; Active and the flows are filled in by Stats
	active   int           // connections established and not torn down
	wake     chan struct{} // closed and replaced when a control changes
	notify   chan struct{} // closed when a counter changes; made by WaitStats
}

// New starts a proxy listening on 127.0.0.1 (a port the kernel picks) and
// forwarding every connection to target ("host:port"). Connections are
// dialled to the target as they are accepted; nothing is checked until
// then.
func New(target string) (*Proxy, error) {
	return newProxy(target, realClock{})
}

func newProxy(target string, clk clock) (*Proxy, error) {
	release, addr, err := reservePort()
	if err != nil {
		return nil, fmt.Errorf("faultproxy: reserving a port: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = release()
		return nil, fmt.Errorf("faultproxy: listening: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target:  target,
		addr:    ln.Addr().String(),
		clk:     clk,
		ctx:     ctx,
		cancel:  cancel,
		release: release,
		ln:      ln,
		links:   make(map[*link]struct{}),
		wake:    make(chan struct{}),
	}
	p.bufs.New = func() any {
		b := make([]byte, chunkSize)
		return &b
	}
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return p, nil
}

// Addr returns the address clients connect to, "127.0.0.1:port". It stays
// the same for the proxy's life, refusing or not.
func (p *Proxy) Addr() string { return p.addr }

// Target returns the address connections are forwarded to.
func (p *Proxy) Target() string { return p.target }

// SetRefusing refuses new connections (on) or accepts them again (off).
// Open connections are not touched. On Linux the proxy stops listening
// but keeps its port reserved, so a client's dial fails with
// ECONNREFUSED and the port cannot be taken by anyone else; connections
// the kernel had completed but the proxy not yet accepted are reset.
// Elsewhere the proxy accepts and resets each new connection at once.
func (p *Proxy) SetRefusing(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if on == p.refusing {
		return nil
	}
	if !refusesByClosing {
		p.refusing = on
		return nil
	}
	if on {
		p.refusing = true
		err := p.ln.Close()
		p.ln = nil
		return err
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listening again on %s: %w", p.addr, err)
	}
	p.refusing = false
	p.ln = ln
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return nil
}

// Close resets every connection, stops listening and waits for all of the
// proxy's goroutines. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	ln := p.ln
	p.ln = nil
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.statsChangedLocked()
	p.mu.Unlock()

	p.cancel()
	var err error
	if ln != nil {
		err = ln.Close()
	}
	for _, l := range links {
		l.reset()
	}
	p.wg.Wait()
	return errors.Join(err, p.release())
}

// acceptLoop accepts connections on ln until it is closed.
func (p *Proxy) acceptLoop(ln net.Listener) {
	defer p.wg.Done()
	backoff := time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and go on.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = time.Millisecond
		client := c.(*net.TCPConn)
		p.mu.Lock()
		if p.closed || p.refusing {
			p.mu.Unlock()
			resetConn(client)
			continue
		}
		p.stats.Accepted++
		p.statsChangedLocked()
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(client)
	}
}

// serve dials the target for an accepted client and starts forwarding.
func (p *Proxy) serve(client *net.TCPConn) {
	defer p.wg.Done()
	var d net.Dialer
	c, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		resetConn(client)
		p.mu.Lock()
		p.stats.DialFailures++
		p.statsChangedLocked()
		p.mu.Unlock()
		return
	}
	server := c.(*net.TCPConn)
	l := newLink(p, client, server)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		resetConn(client)
		resetConn(server)
		return
	}
	p.links[l] = struct{}{}
	p.active++
	p.statsChangedLocked()
	p.wg.Add(pumpsPerLink)
	p.mu.Unlock()
	l.start()
}

// resetConn closes c with a TCP reset.
func resetConn(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}
