package quic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zmtp"
)

// Handshake completes the setup within the setup deadline (and ctx and
// cfg.HandshakeTimeout): on the listener it accepts streams 0 and 4; then
// both sides exchange liveness prefaces and run the ZMTP handshake on
// stream 0. Any failure closes the connection with code 1 (2 for a bad
// liveness preface). On success the liveness protocol starts.
func (c *Conn) Handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if cfg == nil {
		return transport.PeerInfo{}, errors.New("brook: quic handshake needs a Config")
	}
	if c.begun.Swap(true) {
		return transport.PeerInfo{}, errors.New("brook: quic handshake already done")
	}
	info, err := c.handshake(ctx, cfg)
	if err != nil {
		// The connection is aborted; give its resources back now rather
		// than when the caller gets to Close.
		_ = c.Close()
		return transport.PeerInfo{}, err
	}
	return info, nil
}

func (c *Conn) handshake(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	select {
	case <-c.closing:
		return transport.PeerInfo{}, fmt.Errorf("%w: quic connection to %s", transport.ErrClosed, c.RemoteAddr())
	default:
	}
	deadline := c.deadline
	if cfg.HandshakeTimeout > 0 {
		if d := time.Now().Add(cfg.HandshakeTimeout); d.Before(deadline) {
			deadline = d
		}
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	info, err := c.setup(hctx, cfg)
	if err != nil {
		return transport.PeerInfo{}, c.setupFailed(ctx, hctx, err)
	}
	c.shaken = true
	c.engine.Store(c.zc)
	c.setupDone.Store(true)
	return info, nil
}

// setupError carries the close code a setup step failed with.
type setupError struct {
	code CloseCode
	err  error
}

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

func (c *Conn) setup(ctx context.Context, cfg *transport.Config) (transport.PeerInfo, error) {
	if !c.connector {
		if err := c.acceptStreams(ctx); err != nil {
			return transport.PeerInfo{}, &setupError{CodeInvalidSetup, fmt.Errorf("accepting streams: %w", err)}
		}
		c.streamsAccepted.Store(true)
	}
	if err := c.exchangePrefaces(ctx); err != nil {
		return transport.PeerInfo{}, err
	}
	c.ds = newDataStream(c.data)
	c.zc = zmtp.NewConn(c.ds, c.LocalAddr(), c.RemoteAddr(), zmtp.Options{NoHeartbeat: true})
	info, err := c.zc.Handshake(ctx, cfg)
	if err != nil {
		return transport.PeerInfo{}, &setupError{CodeInvalidSetup, err}
	}
	interval, timeout := c.livenessTimers(cfg)
	c.lv = newLiveness(c.live, timeout, c.abort)
	c.lv.packets = func() uint64 { return c.qc.ConnectionStats().PacketsReceived }
	c.tick.startLiveness(c.lv, interval)
	return info, nil
}

// livenessTimers picks the PING interval and the silence after which the
// peer is dead: the socket's heartbeat settings if it has any, else the
// Transport's. The ZMTP timeout counts from a PING sent, and PINGs go out
// every interval, so the silence allowed is interval + timeout.
func (c *Conn) livenessTimers(cfg *transport.Config) (interval, timeout time.Duration) {
	if cfg.HeartbeatInterval <= 0 {
		return c.opts.livenessInterval, c.opts.livenessTimeout
	}
	interval = cfg.HeartbeatInterval
	timeout = cfg.HeartbeatTimeout
	if timeout <= 0 {
		timeout = interval
	}
	return interval, interval + timeout
}

// exchangePrefaces writes our liveness preface and reads the peer's.
func (c *Conn) exchangePrefaces(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	_ = c.live.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.live.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		_ = c.live.SetDeadline(time.Time{})
	}()
	p := preface()
	if _, err := c.live.Write(p[:]); err != nil {
		return &setupError{CodeInvalidSetup, fmt.Errorf("writing the liveness preface: %w", err)}
	}
	var got [prefaceLen]byte
	if _, err := io.ReadFull(c.live, got[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &setupError{CodeInvalidSetup, fmt.Errorf("reading the liveness preface: %w", err)}
		}
		return &setupError{CodeInvalidLiveness, fmt.Errorf("reading the liveness preface: %w", err)}
	}
	if err := checkPreface(got[:]); err != nil {
		return &setupError{CodeInvalidLiveness, err}
	}
	return nil
}

// setupFailed closes the connection after a failed setup and returns the
// error to report: the caller's ctx error if ctx ended, one matching
// transport.ErrHandshakeTimeout if the setup deadline or the handshake
// timeout passed, transport.ErrIncompatible for an incompatible peer.
func (c *Conn) setupFailed(ctx, hctx context.Context, err error) error {
	code := CodeInvalidSetup
	var se *setupError
	if errors.As(err, &se) {
		code = se.code
	}
	select {
	case <-c.closing:
		return fmt.Errorf("%w: quic setup with %s interrupted", transport.ErrClosed, c.RemoteAddr())
	default:
	}
	remote := c.RemoteAddr()
	switch {
	case ctx.Err() != nil:
		c.abortWith(&CloseError{Code: CodeInvalidSetup, Reason: "setup abandoned"})
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: quic setup with %s: %w", transport.ErrHandshakeTimeout, remote, ctx.Err())
		}
		return fmt.Errorf("brook: quic setup with %s: %w", remote, ctx.Err())
	case hctx.Err() != nil || errors.Is(err, transport.ErrHandshakeTimeout) || errors.Is(err, os.ErrDeadlineExceeded):
		c.abortWith(&CloseError{Code: CodeInvalidSetup, Reason: "setup timeout", setupTimeout: true})
		return fmt.Errorf("%w: quic setup with %s: %v", transport.ErrHandshakeTimeout, remote, err)
	case c.qc.Context().Err() != nil && c.abortError() == nil:
		// The peer (or the network) ended the connection: keep its reason.
		return fmt.Errorf("brook: quic setup with %s: %w", remote, connError(context.Cause(c.qc.Context())))
	}
	c.abortWith(&CloseError{Code: code, Reason: err.Error()})
	if errors.Is(err, transport.ErrIncompatible) || errors.Is(err, transport.ErrProtocol) {
		return fmt.Errorf("brook: quic setup with %s: %w", remote, err)
	}
	return fmt.Errorf("brook: quic setup with %s: %w", remote, &CloseError{Code: code, Reason: err.Error()})
}
