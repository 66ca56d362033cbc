package auth

import (
	"context"
	"log/slog"
	"sync"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// maxZAPWorkers bounds the requests a ZAPHandler decides at once.
const maxZAPWorkers = 16

// ZAPHandler serves a transport.Authenticator as a ZAP handler (RFC 27):
// a ROUTER bound at ZAPEndpoint that answers each request with the
// authenticator's verdict, up to 16 at a time. A request it cannot read
// gets status 400 when it has a request id to answer to, and is dropped
// otherwise.
type ZAPHandler struct {
	a      transport.Authenticator
	sock   *socket.Socket
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
}

// ServeZAP makes a the ZAP handler of the inproc namespace ns (nil: the
// process-wide one). There is one handler per namespace: a second one
// fails with an error matching transport.ErrAddrInUse. logger receives
// malformed requests (nil discards).
func ServeZAP(a transport.Authenticator, ns *inproc.Namespace, logger *slog.Logger) (*ZAPHandler, error) {
	if ns == nil {
		ns = inproc.Default()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sock, err := socket.New(socket.Router,
		socket.WithTransport(inproc.New(ns)), socket.WithLinger(0),
		socket.WithSendHWM(0), socket.WithRecvHWM(0))
	if err != nil {
		return nil, err
	}
	if err := sock.Bind(ZAPEndpoint); err != nil {
		_ = sock.Close()
		return nil, err
	}
	h := &ZAPHandler{a: a, sock: sock, log: logger, slots: make(chan struct{}, maxZAPWorkers)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.serve()
	return h, nil
}

func (h *ZAPHandler) serve() {
	defer h.wg.Done()
	for {
		m, err := h.sock.Recv(h.ctx)
		if err != nil {
			return
		}
		// The envelope: routing ids up to and with the empty delimiter.
		split := -1
		for i, f := range m.Frames {
			if len(f) == 0 {
				split = i
				break
			}
		}
		if split < 1 {
			h.log.Info("brook ZAP handler: request without an envelope dropped", "frames", len(m.Frames))
			continue
		}
		envelope, body := m.Frames[:split+1], m.Frames[split+1:]
		select {
		case h.slots <- struct{}{}:
		case <-h.ctx.Done():
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer func() { <-h.slots }()
			h.answer(envelope, body)
		}()
	}
}

// answer decides one request and sends the reply.
func (h *ZAPHandler) answer(envelope, body [][]byte) {
	id, req, err := decodeZAPRequest(body)
	var reply transport.AuthReply
	switch {
	case err != nil && id == nil:
		h.log.Info("brook ZAP handler: request dropped", "err", err)
		return
	case err != nil:
		h.log.Info("brook ZAP handler: malformed request", "err", err)
		reply = transport.AuthReply{Status: transport.StatusDenied, Text: err.Error()}
	default:
		reply, err = h.a.Authenticate(h.ctx, req)
		if err != nil {
			reply = transport.AuthReply{Status: transport.StatusInternal, Text: err.Error()}
		}
	}
	frames, err := encodeZAPReply(id, reply)
	if err != nil {
		frames, _ = encodeZAPReply(id, transport.AuthReply{Status: transport.StatusInternal, Text: err.Error()})
	}
	out := append(append([][]byte(nil), envelope...), frames...)
	if err := h.sock.Send(h.ctx, socket.NewMsg(out...)); err != nil && h.ctx.Err() == nil {
		h.log.Info("brook ZAP handler: reply not sent", "err", err)
	}
}

// Close unbinds the handler and waits for the requests in progress.
func (h *ZAPHandler) Close() error {
	h.cancel()
	err := h.sock.Close()
	h.wg.Wait()
	return err
}
