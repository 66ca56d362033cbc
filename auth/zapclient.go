package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// ZAPClient is a transport.Authenticator that asks the ZAP handler bound
// at ZAPEndpoint (RFC 27), brook's or any other speaking ZAP over brook's
// inproc, for each verdict: libzmq's way of authenticating. It sends its
// requests on one DEALER socket, each with its own request id, so many
// handshakes wait for their replies at once. With no handler bound a
// request fails at once, which the server mechanism turns into status
// 500 (libzmq admits CURVE clients when no handler is bound; brook, told
// to use ZAP, does not).
//
// A ZAPClient may serve many sockets; Close it after them.
type ZAPClient struct {
	ns      *inproc.Namespace
	sock    *socket.Socket
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	next    atomic.Uint64
	mu      sync.Mutex
	pending map[string]chan zapResult
}

type zapResult struct {
	reply transport.AuthReply
	err   error
}

var _ transport.Authenticator = (*ZAPClient)(nil)

// NewZAPClient connects to the ZAP handler of the inproc namespace ns
// (nil: the process-wide one, where brook sockets' inproc endpoints
// live).
func NewZAPClient(ns *inproc.Namespace) (*ZAPClient, error) {
	if ns == nil {
		ns = inproc.Default()
	}
	sock, err := socket.New(socket.Dealer,
		socket.WithTransport(inproc.New(ns)), socket.WithLinger(0),
		socket.WithSendHWM(0), socket.WithRecvHWM(0))
	if err != nil {
		return nil, err
	}
	if err := sock.Connect(ZAPEndpoint); err != nil {
		_ = sock.Close()
		return nil, err
	}
	z := &ZAPClient{ns: ns, sock: sock, done: make(chan struct{}), pending: make(map[string]chan zapResult)}
	z.ctx, z.cancel = context.WithCancel(context.Background())
	go z.read()
	return z, nil
}

// Authenticate sends req to the ZAP handler and waits for its reply, or
// for ctx to end.
func (z *ZAPClient) Authenticate(ctx context.Context, req *transport.AuthRequest) (transport.AuthReply, error) {
	if !z.ns.Bound(strings.TrimPrefix(ZAPEndpoint, "inproc://")) {
		return transport.AuthReply{}, fmt.Errorf("%w: no handler bound at %s", ErrZAP, ZAPEndpoint)
	}
	id := strconv.FormatUint(z.next.Add(1), 10)
	ch := make(chan zapResult, 1)
	z.mu.Lock()
	if z.pending == nil {
		z.mu.Unlock()
		return transport.AuthReply{}, fmt.Errorf("%w: client closed", ErrZAP)
	}
	z.pending[id] = ch
	z.mu.Unlock()
	defer func() {
		z.mu.Lock()
		delete(z.pending, id)
		z.mu.Unlock()
	}()
	frames := append([][]byte{{}}, encodeZAPRequest(id, req)...)
	if err := z.sock.Send(ctx, socket.NewMsg(frames...)); err != nil {
		return transport.AuthReply{}, fmt.Errorf("%w: sending the request: %w", ErrZAP, err)
	}
	select {
	case r := <-ch:
		return r.reply, r.err
	case <-ctx.Done():
		return transport.AuthReply{}, ctx.Err()
	case <-z.done:
		return transport.AuthReply{}, fmt.Errorf("%w: client closed", ErrZAP)
	}
}

// read hands each reply to the request waiting for it.
func (z *ZAPClient) read() {
	defer close(z.done)
	for {
		m, err := z.sock.Recv(z.ctx)
		if err != nil {
			return
		}
		f := m.Frames
		if len(f) == 0 || len(f[0]) != 0 {
			continue // not a reply: no empty delimiter
		}
		id, reply, err := decodeZAPReply(f[1:])
		if err != nil {
			if len(f) < 3 {
				continue
			}
			id = string(f[2])
		}
		z.mu.Lock()
		ch := z.pending[id]
		z.mu.Unlock()
		if ch != nil {
			ch <- zapResult{reply, err}
		}
	}
}

// Close stops the client; requests still waiting fail.
func (z *ZAPClient) Close() error {
	z.mu.Lock()
	z.pending = nil
	z.mu.Unlock()
	z.cancel()
	err := z.sock.Close()
	<-z.done
	if errors.Is(err, socket.ErrClosed) {
		err = nil
	}
	return err
}
