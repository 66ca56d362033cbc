package zmtp

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/internal/bufpool"
)

// Conn is a ZMTP connection over a byte stream. It implements
// transport.Conn: Handshake first, then one goroutine reads (ReadMsg) while
// another writes (WriteMsg, WriteSubscription, Flush); Close may be called
// at any time from any goroutine. A Conn runs no goroutine of its own:
// heartbeats (PINGs, PONGs and the peer's deadlines) run on a timer armed
// only while there is something to watch (see heartbeat.go). Close stops
// the timer and waits for a callback in progress, so every Conn must be
// closed.
type Conn struct {
	rw             io.ReadWriteCloser
	local, remote  string
	codec          PartCodec
	mech           mechanism
	noHeartbeat    bool
	epoch          time.Time
	handshakeBegun atomic.Bool

	// Set by Handshake before ready is stored; read-only afterwards.
	ready  atomic.Bool
	peer30 bool
	maxMsg int64
	hb     heartbeat
	log    *slog.Logger
	// Boxes of a mechanism that encrypts traffic (CURVE), nil otherwise:
	// seal belongs to the writer, unseal and opened to the reader.
	seal   *sealer
	unseal *unsealer
	opened []byte // body of a large MESSAGE opened by openFrame
	// onCommand receives the peer's application commands; set before the
	// first ReadMsg and read only by the reading goroutine.
	onCommand transport.CommandHandler
	// batched and msgsRead belong to ReadMsgs (batch.go), on the reading
	// goroutine.
	batched  func(name []byte) bool
	msgsRead uint64

	// The largest buffers once the handshake is done (buffers.go); until
	// then the Conn holds only a small read buffer and no write buffer, so
	// connections that never finish their handshake cost little memory.
	rbufSize, wbufSize int

	// Reader state, owned by the goroutine in ReadMsg (or Handshake), or
	// in ReadBuffered and FillBuffer (readinline.go).
	rbuf       []byte
	rpos, rend int
	// The slabs are carved from offsets, so that carving stores no
	// pointer into the Conn (a pointer store costs a GC write barrier
	// while the collector runs, and the reader allocates often enough to
	// keep it running).
	slab    []byte
	slabOff int
	// A recycled byte slab (package bufpool) is counted in slabRef (the
	// zero Slab while the byte slab is a plain allocation); msgCarved
	// says the message being read has bodies in it. unitFrames says the
	// frame slab is the recycled slab's frame entries (reader.go).
	slabRef    bufpool.Slab
	msgCarved  bool
	spanTok    []byte // the previous slab's token of a message spanning two
	unitFrames bool
	frameSlab  [][]byte
	frameOff   int
	scratch    [][]byte
	// part is the body of a large single-frame message whose header an
	// inline read has taken (readinline.go), partGot how much of it has
	// arrived: whoever reads next goes on with it.
	part      []byte
	partGot   int
	readSince atomic.Int64 // clock() when the pending stream Read began; 0 = none pending
	lastData  atomic.Int64 // clock() when a stream Read last returned data
	inq       inQueue      // asks the kernel what has arrived (reader_queued_*.go)
	vr        vecRead      // reads a body and what follows it at once (reader_vec_*.go)

	// Writer state, guarded by wmu, which is released with unlockW.
	wmu     sync.Mutex
	wbuf    []byte // the whole buffer (len = capacity); wbuf[:wn] is pending
	wn      int    // bytes pending in wbuf, kept apart so writes store no pointer
	wopen   bool   // the last frame written or buffered has MORE set
	wmid    bool   // the stream ends inside a message (its rest is buffered)
	wclosed bool   // CloseWrite ended our sending direction
	werr    error  // a control frame could not be written: sending is over
	cmdBuf  []byte // PING or PONG written ahead of the buffer
	encBuf  []byte
	vec     [2][]byte       // buffer and large body of a vectored write
	bufs    net.Buffers     // consumed view of vec
	raw     syscall.RawConn // the socket under rw, for TryFlush
	rawNone bool            // rw is not a socket
	rawOut  rawWrite        // TryFlush's write in progress (tryflush_unix.go)
	rawFn   func(uintptr) bool
	// Where the writes end in the stream (see Written): wpos counts the
	// bytes of the buffer and of large bodies handed to the stream
	// (control frames written ahead of the buffer are not counted), wends
	// holds, from whead on, the low 32 bits of the position at which each
	// call not yet wholly out ends, and wdone counts those wholly out.
	wpos  int64
	wends []uint32
	whead int
	wdone uint64

	// Buffers that grow with load and shrink when idle (buffers.go):
	// read side owned by the reader, write side guarded by wmu.
	mem buffers

	// Heartbeats (heartbeat.go).
	ctl     atomic.Uint32 // control frames due: ctlPing, ctlPong
	pongMu  sync.Mutex    // guards the PONG context, set with ctlPong
	pongLen int
	pongCtx [maxPingContext]byte
	peerTTL atomic.Int64 // nanoseconds; 0 = none
	hbMu    sync.Mutex
	beats   beats

	// interrupted is set while InterruptRead keeps reads from waiting
	// (readinline.go); kept out of the reader's hot fields above.
	interrupted atomic.Bool

	// Lifecycle.
	dead  atomic.Bool
	errMu sync.Mutex
	err   error
	wg    sync.WaitGroup // heartbeat timer callbacks in progress
}

var _ transport.Conn = (*Conn)(nil)

// NewConn wraps a byte stream in a ZMTP connection that has not shaken hands
// yet. localAddr and remoteAddr are used in errors, logs and PeerInfo. The
// Conn owns rw from here on and closes it in Close; closing rw must unblock
// a Read or Write in progress on it (as it does for net.Conn). When rw has
// SetDeadline(time.Time) error, the handshake timeout uses it; otherwise
// the timeout closes rw.
func NewConn(rw io.ReadWriteCloser, localAddr, remoteAddr string, opts Options) *Conn {
	return &Conn{
		rw:          rw,
		local:       localAddr,
		remote:      remoteAddr,
		codec:       opts.Codec,
		mech:        nullMechanism{},
		noHeartbeat: opts.NoHeartbeat,
		epoch:       time.Now(),
		rbufSize:    opts.readBufferSize(),
		wbufSize:    opts.writeBufferSize(),
		rbuf:        make([]byte, handshakeReadBuffer),
		log:         discardLogger(),
	}
}

// LocalAddr returns the local address given to NewConn.
func (c *Conn) LocalAddr() string { return c.local }

// RemoteAddr returns the remote address given to NewConn.
func (c *Conn) RemoteAddr() string { return c.remote }

// Close tears the connection down: it closes the stream, which unblocks
// ReadMsg and WriteMsg with an error matching transport.ErrClosed (unless
// the connection had already failed, in which case they keep reporting
// that failure), and waits for a heartbeat callback in progress. It is
// safe to call more than once and always returns nil.
func (c *Conn) Close() error {
	c.fail(transport.ErrClosed)
	c.wg.Wait()
	return nil
}

// fail records the first reason the connection ended and closes the
// stream. It does not wait for anything, so any goroutine may call it.
func (c *Conn) fail(err error) {
	c.errMu.Lock()
	first := c.err == nil
	if first {
		c.err = err
	}
	c.errMu.Unlock()
	if !first {
		return
	}
	c.dead.Store(true)
	_ = c.rw.Close()
	c.stopHeartbeats()
}

// failure returns the reason the connection ended (nil while it is alive).
func (c *Conn) failure() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// ioFailure turns an I/O error into the connection's failure: the reason
// recorded by fail if there is one (Close, heartbeat timeout), else err.
func (c *Conn) ioFailure(err error) error {
	c.fail(err)
	return c.failure()
}

// clock returns monotonic nanoseconds since the Conn was made, never 0.
func (c *Conn) clock() int64 { return int64(time.Since(c.epoch)) + 1 }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
