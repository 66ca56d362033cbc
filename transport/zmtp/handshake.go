package zmtp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brookmq/brook/transport"
)

// errorGrace bounds how long we try to deliver an ERROR command to a peer
// we reject before closing.
const errorGrace = time.Second

// maxHandshakeCommand bounds the peer's READY (or ERROR) whatever the
// message size limit: a peer that has not even shaken hands must not make
// us read, copy and index hundreds of megabytes of properties. Real READY
// commands are a few dozen bytes.
const maxHandshakeCommand = 1 << 20

// handshakeReadBuffer is the read buffer of a Conn until its handshake
// succeeds: enough for a greeting and a usual READY (a bigger READY is read
// into memory of its own). The full buffers are only allocated for a peer
// that completed its handshake, so a flood of connections that stall
// before it costs about 1 KiB each rather than the 128 KiB of buffers.
const handshakeReadBuffer = 512

// Handshake sends our greeting and the mechanism's first commands (for
// NULL, READY) at once, never waiting for the peer's greeting first, then
// reads the peer's greeting and runs the mechanism's handshake to its end.
// It accepts ZMTP 3.0 and later, requires the peer to use our mechanism,
// checks that the peer's socket type is one of cfg.PeerTypes (sending an
// ERROR command and failing with transport.ErrIncompatible when it is
// not), and returns what the peer announced. cfg.HandshakeTimeout and ctx
// bound the whole exchange (transport.ErrHandshakeTimeout). A failed
// handshake closes the connection. After success cfg's limits and
// heartbeat settings apply to the connection, and codec hello messages,
// if any, have been sent.
func (c *Conn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if cfg == nil {
		return transport.PeerInfo{}, errors.New("brook: zmtp handshake needs a Config")
	}
	if c.handshakeBegun.Swap(true) {
		return transport.PeerInfo{}, errors.New("brook: zmtp handshake already done")
	}
	if err := c.failure(); err != nil {
		return transport.PeerInfo{}, err
	}
	props, err := readyProperties(cfg)
	if err != nil {
		c.fail(err)
		return transport.PeerInfo{}, err
	}
	c.maxMsg = cfg.MaxMsgSize
	if cfg.Logger != nil {
		c.log = cfg.Logger
	}
	meta := appendMetadata(nil, props)
	if len(meta) > maxHandshakeCommand-1-len(cmdReady) {
		err := fmt.Errorf("zmtp: READY properties take %d bytes, more than the %d a peer accepts", len(meta), maxHandshakeCommand)
		c.fail(err)
		return transport.PeerInfo{}, err
	}
	mech, err := c.mechanismFor(ctx, cfg)
	if err != nil {
		c.fail(err)
		return transport.PeerInfo{}, err
	}
	first, err := mech.Start(meta)
	if err != nil {
		c.fail(err)
		return transport.PeerInfo{}, err
	}
	out := appendGreeting(make([]byte, 0, greetingSize+len(first)), mech.Name(), mech.AsServer())
	out = append(out, first...)

	g := c.startGuard(ctx, cfg.HandshakeTimeout)
	info, err := c.exchange(out, mech)
	if err == nil {
		info = c.secure(mech, info)
	}
	if err == nil && !cfg.PeerAllowed(info.SocketType) {
		c.reject("invalid socket type")
		err = fmt.Errorf("%w: we are %s, peer %s is %s", transport.ErrIncompatible, strings.ToUpper(cfg.SocketType), c.remote, info.SocketType)
	}
	if g.stop() {
		err = c.timeoutError(ctx, cfg.HandshakeTimeout)
	}
	if err == nil {
		err = c.afterHandshake(cfg)
	}
	if err != nil {
		return transport.PeerInfo{}, c.failHandshake(err)
	}
	return info, nil
}

// failHandshake closes the connection and makes err its failure, replacing
// whatever I/O error the aborted exchange recorded, unless Close came first.
func (c *Conn) failHandshake(err error) error {
	if !errors.Is(err, transport.ErrHandshakeTimeout) && !errors.Is(err, transport.ErrClosed) {
		err = fmt.Errorf("zmtp handshake with %s: %w", c.remote, err)
	}
	c.fail(err)
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if !errors.Is(c.err, transport.ErrClosed) {
		c.err = err
	}
	return c.err
}

// exchange writes out (our greeting and first commands) on its own
// goroutine while it reads the peer's greeting and handshake commands, so
// two peers that write before reading never deadlock, even over an
// unbuffered pipe. Later handshake commands are written once that first
// write is done. A mechanism's rejection is sent to the peer in an ERROR
// command.
func (c *Conn) exchange(out []byte, mech mechanism) (transport.PeerInfo, error) {
	werr := make(chan error, 1)
	go func() {
		_, err := c.rw.Write(out)
		werr <- err
	}()
	pending := true // the first write has not been waited for
	wrote := func(err error) error {
		if err != nil {
			return c.ioFailure(fmt.Errorf("zmtp: writing to %s: %w", c.remote, err))
		}
		return nil
	}
	send := func(b []byte) error {
		if pending {
			pending = false
			if err := wrote(<-werr); err != nil {
				return err
			}
		}
		_, err := c.rw.Write(b)
		return wrote(err)
	}
	info, err := c.readHandshake(mech, send)
	var rej *rejection
	if errors.As(err, &rej) {
		if pending {
			// The ERROR must not interleave with the first write.
			t := time.AfterFunc(errorGrace, func() { _ = c.rw.Close() })
			<-werr
			t.Stop()
		}
		c.sendRejection(rej.frame())
		return info, err
	}
	if pending {
		if err != nil {
			_ = c.rw.Close() // unblocks the write if the peer never reads
			<-werr
			return info, err
		}
		err = wrote(<-werr)
	}
	return info, err
}

// readHandshake reads the peer's greeting and then its handshake commands,
// feeding them to mech and writing its answers with send, until mech has
// the peer's metadata.
func (c *Conn) readHandshake(mech mechanism, send func([]byte) error) (transport.PeerInfo, error) {
	// Judge the first byte as soon as it arrives, so a peer speaking
	// another protocol in short lines is refused at once.
	if err := c.fill(1); err != nil {
		return transport.PeerInfo{}, explainClose(mech, 0, err)
	}
	if c.rbuf[c.rpos] != signatureFirst {
		return transport.PeerInfo{}, protocolErrorf("peer did not send a ZMTP greeting (starts with 0x%02x)", c.rbuf[c.rpos])
	}
	if err := c.fill(signatureSize); err != nil {
		return transport.PeerInfo{}, explainClose(mech, 0, err)
	}
	if err := checkSignature(c.rbuf[c.rpos:]); err != nil {
		return transport.PeerInfo{}, err
	}
	if err := c.fill(greetingSize); err != nil {
		return transport.PeerInfo{}, explainClose(mech, 0, err)
	}
	g, err := parseGreeting(c.rbuf[c.rpos : c.rpos+greetingSize])
	if err != nil {
		return transport.PeerInfo{}, err
	}
	c.rpos += greetingSize
	if err := matchGreeting(mech, g); err != nil {
		return transport.PeerInfo{}, err
	}
	c.peer30 = g.legacy30()

	for {
		name, data, err := c.readHandshakeCommand()
		if err != nil {
			return transport.PeerInfo{}, explainClose(mech, 1, err)
		}
		if name == cmdError {
			return transport.PeerInfo{}, peerRefusal(parseErrorReason(data))
		}
		out, meta, done, err := mech.Step(name, data)
		if err != nil {
			return transport.PeerInfo{}, err
		}
		if len(out) > 0 {
			if err := send(out); err != nil {
				return transport.PeerInfo{}, err
			}
		}
		if done {
			return c.peerInfo(g, meta)
		}
	}
}

// readHandshakeCommand reads one command frame of the handshake; its data
// is valid until the next read.
func (c *Conn) readHandshakeCommand() (string, []byte, error) {
	flags, size, err := c.readHeader()
	if err != nil {
		return "", nil, err
	}
	if flags&flagCommand == 0 {
		return "", nil, protocolErrorf("peer sent a message before its handshake was done")
	}
	if size > maxHandshakeCommand {
		return "", nil, fmt.Errorf("%w: handshake command of %d bytes exceeds %d", transport.ErrTooLarge, size, maxHandshakeCommand)
	}
	body, err := c.readCommand(size)
	if err != nil {
		return "", nil, err
	}
	return parseHandshakeCommand(body)
}

// peerInfo decodes the peer's metadata into what Handshake returns.
func (c *Conn) peerInfo(g greeting, meta []byte) (transport.PeerInfo, error) {
	props, err := parseMetadata(meta)
	if err != nil {
		return transport.PeerInfo{}, err
	}
	st, ok := lookup(props, propSocketType)
	if !ok {
		return transport.PeerInfo{}, protocolErrorf("peer READY has no Socket-Type")
	}
	info := transport.PeerInfo{
		SocketType: strings.ToUpper(string(st)),
		Properties: props,
		Version:    g.version(),
		RemoteAddr: c.remote,
	}
	if id, ok := lookup(props, propIdentity); ok {
		info.Identity = id
	}
	return info, nil
}

// reject sends an ERROR command to a peer whose socket type we refuse, then
// closes the stream. It drains the peer meanwhile, so a peer writing its own
// ERROR over an unbuffered pipe cannot block us, and gives up after
// errorGrace.
func (c *Conn) reject(reason string) {
	c.sendRejection(appendCommand(nil, cmdError, errorData(reason)))
}

// sendRejection sends an ERROR frame and closes the stream, as reject.
func (c *Conn) sendRejection(frame []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.writeOut(frame)
		_ = c.rw.Close()
	}()
	t := time.AfterFunc(errorGrace, func() { _ = c.rw.Close() })
	defer t.Stop()
	var sink [512]byte
	for {
		if _, err := c.rw.Read(sink[:]); err != nil {
			break
		}
	}
	<-done
}

// afterHandshake applies the connection's settings, starts the
// heartbeats and sends the codec's hello messages.
func (c *Conn) afterHandshake(cfg *transport.Config) error {
	c.initBuffers()
	if d, ok := c.rw.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(time.Time{})
	}
	// ZMTP 3.0 has no PING: a 3.0 peer gets none (its PINGs, if it sends
	// any, are still answered).
	c.hb = newHeartbeat(cfg, c.noHeartbeat || c.peer30)
	c.lastData.Store(c.clock())
	c.errMu.Lock()
	if c.err != nil {
		c.errMu.Unlock()
		return c.failure()
	}
	c.ready.Store(true)
	c.errMu.Unlock()
	c.startHeartbeats()
	if c.codec == nil {
		return nil
	}
	hello := c.codec.Hello()
	if len(hello) == 0 {
		return nil
	}
	// Buffered, not flushed: the parts lead whatever is sent first, and
	// the handshake never waits for a peer that is not reading yet.
	c.wmu.Lock()
	defer c.unlockW()
	for _, part := range hello {
		if err := c.writeFrame(0, nil, part); err != nil {
			return err
		}
	}
	return nil
}

// timeoutError is the error of a handshake cut short by its timeout or ctx.
func (c *Conn) timeoutError(ctx context.Context, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w with %s: %w", transport.ErrHandshakeTimeout, c.remote, err)
	}
	return fmt.Errorf("%w with %s after %v", transport.ErrHandshakeTimeout, c.remote, timeout)
}
