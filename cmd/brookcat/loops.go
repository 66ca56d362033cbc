package main

import (
	"context"
	"errors"
	"io"
)

// item is one input message, or the input's end (io.EOF) or error.
type item struct {
	frames [][]byte
	err    error
}

// feed reads the input on a goroutine of its own, so that a signal or
// the end of the run never waits for stdin. It stops at the input's end,
// at an error, or when ctx ends (unless it is blocked in a read).
func (c *cat) feed(ctx context.Context) <-chan item {
	ch := make(chan item)
	go func() {
		for {
			frames, err := c.in.Next()
			select {
			case ch <- item{frames, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// next returns the next input message; io.EOF at the input's end.
func next(ctx context.Context, in <-chan item) ([][]byte, error) {
	select {
	case it := <-in:
		return it.frames, it.err
	case <-ctx.Done():
		return nil, errStopped
	}
}

// eachInput calls fn with each input message while more allows, and
// returns nil at the input's end.
func (c *cat) eachInput(ctx context.Context, more func() bool, fn func([][]byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := c.feed(ctx)
	for more() {
		frames, err := next(ctx, in)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(frames); err != nil {
			return err
		}
	}
	return nil
}

// sendLoop sends the input (PUSH, PUB, and -w).
func (c *cat) sendLoop(ctx context.Context) error {
	return c.eachInput(ctx, func() bool { return c.more(c.sent) }, func(frames [][]byte) error {
		return c.send(ctx, frames)
	})
}

// recvLoop prints what arrives (PULL, SUB, and -r).
func (c *cat) recvLoop(ctx context.Context) error {
	for c.more(c.got) {
		m, err := c.recv(ctx)
		if err != nil {
			return err
		}
		if err := c.print(m); err != nil {
			return err
		}
	}
	return nil
}

// requestLoop sends each input message and prints its reply (REQ).
func (c *cat) requestLoop(ctx context.Context) error {
	return c.eachInput(ctx, func() bool { return c.more(c.got) }, func(frames [][]byte) error {
		if err := c.send(ctx, frames); err != nil {
			return err
		}
		reply, err := c.recv(ctx)
		if err != nil {
			return err
		}
		return c.print(reply)
	})
}

// replyLoop prints each request and answers it with the next input
// message, or with itself (-echo) (REP).
func (c *cat) replyLoop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var in <-chan item
	if !c.cfg.echo {
		in = c.feed(ctx)
	}
	for c.more(c.got) {
		req, err := c.recv(ctx)
		if err != nil {
			return err
		}
		if err := c.print(req); err != nil {
			return err
		}
		answer := req.frames
		if !c.cfg.echo {
			answer, err = next(ctx, in)
			if errors.Is(err, io.EOF) {
				c.note("the input ended: the last request got no reply")
				return nil
			}
			if err != nil {
				return err
			}
		}
		if err := c.send(ctx, answer); err != nil {
			return err
		}
	}
	return nil
}

// duplexLoop sends the input and prints what arrives, at once (PAIR,
// DEALER, ROUTER, XPUB, XSUB). It ends once -n messages arrived and the
// input is all sent, at -timeout without a message, or on an error; the
// input's end alone only ends the sending.
func (c *cat) duplexLoop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sendErr := make(chan error, 1)
	go func() { sendErr <- c.sendAll(ctx) }()
	recvErr := make(chan error, 1)
	go func() { recvErr <- c.recvLoop(ctx) }()
	var err error
	select {
	case err = <-recvErr:
		if err == nil {
			return <-sendErr // -n reached: finish sending the input
		}
		cancel()
		<-sendErr
	case err = <-sendErr:
		if err == nil {
			err = <-recvErr // the input is all sent: keep receiving
		} else {
			cancel()
			<-recvErr
		}
	}
	return err
}

// sendAll sends the whole input of a duplex socket (-n counts received
// messages there). A signal only ends the sending: the receiving side
// says how the run ended.
func (c *cat) sendAll(ctx context.Context) error {
	err := c.eachInput(ctx, func() bool { return true }, func(frames [][]byte) error { return c.send(ctx, frames) })
	if errors.Is(err, errStopped) {
		return nil
	}
	return err
}
