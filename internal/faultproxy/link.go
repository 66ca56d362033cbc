package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	chunkSize    = 16 << 10 // bytes read from a sender at a time
	queueChunks  = 8        // chunks a direction holds read but not yet forwarded
	pumpsPerLink = 4        // a reader and a writer per direction
)

// chunk is bytes read from a sender, waiting to be forwarded.
type chunk struct {
	buf *[]byte
	n   int
	at  time.Time // when they were read (latency counts from here)
}

// link is one proxied connection: the client's and the one the proxy
// dialled to the target. Each direction has a reader goroutine (sender to
// queue) and a writer goroutine (queue to receiver), so latency delays
// bytes without stopping the reading.
type link struct {
	p      *Proxy
	conns  [2]*net.TCPConn // [0] client (sends ToTarget), [1] server (sends ToClient)
	queues [2]chan chunk   // per direction index

	done    chan struct{} // closed when the link is torn down (reset or cut)
	stopped sync.Once
	drain   *net.TCPConn   // after a cut: the receiving side, drained until it closes
	running atomic.Int32   // pumps still running
	mu      sync.Mutex     // guards drain
	eof     [2]atomic.Bool // direction i's sender ended its stream
}

func newLink(p *Proxy, client, server *net.TCPConn) *link {
	l := &link{p: p, conns: [2]*net.TCPConn{client, server}, done: make(chan struct{})}
	for i := range l.queues {
		l.queues[i] = make(chan chunk, queueChunks)
	}
	return l
}

// src and dst return the sending and receiving side of direction i.
func (l *link) src(i int) *net.TCPConn { return l.conns[i] }
func (l *link) dst(i int) *net.TCPConn { return l.conns[1-i] }

// start runs the four pumps (the caller has counted them in p.wg).
func (l *link) start() {
	l.running.Store(pumpsPerLink)
	for i := range 2 {
		go l.readLoop(i)
		go l.writeLoop(i)
	}
}

// exit ends one pump; the last one out closes the sockets and forgets
// the link.
func (l *link) exit() {
	defer l.p.wg.Done()
	if l.running.Add(-1) > 0 {
		return
	}
	l.stop()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.p.mu.Lock()
	delete(l.p.links, l)
	l.p.statsChangedLocked()
	l.p.mu.Unlock()
}

// stop tears the link down once: pumps stop at their next step. It
// reports whether this call did it.
func (l *link) stop() bool {
	first := false
	l.stopped.Do(func() {
		first = true
		close(l.done)
		l.p.mu.Lock()
		l.p.active--
		l.p.statsChangedLocked()
		l.p.mu.Unlock()
	})
	return first
}

// reset tears the link down with a TCP reset on both sides. It reports
// whether the link was still up.
func (l *link) reset() bool {
	first := l.stop()
	for _, c := range l.conns {
		resetConn(c)
	}
	return first
}

// cut tears the link down after direction i forwarded the last byte of a
// cut: the sender is reset, the receiver gets the end of its stream after
// the bytes already written, and is drained until it closes (closing a
// socket with unread bytes would reset it and could drop those bytes).
func (l *link) cut(i int) {
	l.mu.Lock()
	l.drain = l.dst(i)
	l.mu.Unlock()
	l.stop()
	resetConn(l.src(i))
	_ = l.dst(i).CloseWrite()
}

// draining reports whether c is the cut receiver to drain.
func (l *link) draining(c *net.TCPConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.drain == c
}

// readLoop reads direction i's sender into its queue, honouring Stall
// (no reading) and BlackHole (reading into nothing).
func (l *link) readLoop(i int) {
	defer l.exit()
	q := l.queues[i]
	defer close(q)
	src := l.src(i)
	p := l.p
	for {
		if !p.await(l.done, func() bool { return p.dirs[i].mode != modeStall }) {
			l.finishReading(src)
			return
		}
		buf := p.bufs.Get().(*[]byte)
		n, err := src.Read(*buf)
		if n > 0 && p.took(i, n) {
			select {
			case q <- chunk{buf: buf, n: n, at: p.clk.Now()}:
			case <-l.done:
				p.bufs.Put(buf)
				l.finishReading(src)
				return
			}
		} else {
			p.bufs.Put(buf)
		}
		if err != nil {
			switch {
			case isDone(l.done):
				l.finishReading(src)
			case errors.Is(err, io.EOF):
				l.eof[i].Store(true) // the writer passes the end on
			default:
				l.reset() // a reset (or worse) from the sender: reset the receiver too
			}
			return
		}
	}
}

// finishReading is a reader's last step once the link is torn down: the
// receiver of a cut is drained until it closes.
func (l *link) finishReading(src *net.TCPConn) {
	if l.draining(src) {
		_, _ = io.Copy(io.Discard, src)
	}
}

// writeLoop forwards direction i's queue to its receiver. At the end of
// the queue it passes the sender's end of stream on as a half-close.
func (l *link) writeLoop(i int) {
	defer l.exit()
	dst := l.dst(i)
	for c := range l.queues[i] {
		ok := l.forward(i, dst, (*c.buf)[:c.n], c.at)
		l.p.bufs.Put(c.buf)
		if !ok {
			for c := range l.queues[i] { // until the reader sees the link is down
				l.p.bufs.Put(c.buf)
			}
			return
		}
	}
	if l.eof[i].Load() && !isDone(l.done) {
		if err := dst.CloseWrite(); err != nil && !isDone(l.done) {
			l.reset()
		}
	}
}

// forward delivers data read at time at to dst, through latency, stall,
// black hole, bandwidth and cut. It returns false once the link is down.
func (l *link) forward(i int, dst *net.TCPConn, data []byte, at time.Time) bool {
	p := l.p
	ds := &p.dirs[i]
	if !p.sleepUntil(l.done, func() time.Time { return at.Add(ds.latency) }) {
		return false
	}
	for len(data) > 0 {
		if !p.await(l.done, func() bool { return ds.mode != modeStall }) {
			return false
		}
		if p.discardIfBlackHole(i, len(data)) {
			return true
		}
		k, ok := p.pace(l.done, i, len(data))
		if !ok {
			return false
		}
		k, cut := p.takeCut(i, k)
		if k > 0 {
			if _, err := dst.Write(data[:k]); err != nil {
				if !isDone(l.done) {
					l.reset() // the receiver is gone: reset the sender too
				}
				return false
			}
			p.forwarded(i, k)
		}
		if cut != nil {
			l.cut(i)
			p.mu.Lock()
			p.stats.Cuts++
			p.statsChangedLocked()
			p.mu.Unlock()
			close(cut.done)
			return false
		}
		data = data[k:]
	}
	return true
}

func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
