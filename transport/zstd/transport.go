package zstd

import (
	"context"
	"sync"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
	"github.com/brookmq/brook/transport/zmtp"
)

// Scheme is the endpoint scheme of the transport.
const Scheme = "zstd+tcp"

// Transport dials and listens on zstd+tcp:// endpoints: tcp's transport
// whose connections carry the per-part codec. Its codec (encoder, decoder,
// cache) is shared by all its connections; give each socket its own
// Transport so a PUB compresses once for all its subscribers. It is safe for
// concurrent use.
type Transport struct {
	cfg config

	once  sync.Once
	codec *codec
	tcp   *tcp.Transport
	err   error
}

var _ transport.Transport = (*Transport)(nil)

// New returns a zstd+tcp:// transport. Invalid options make Dial and Listen
// fail with an error matching ErrConfig.
func New(opts ...Option) *Transport {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	return &Transport{cfg: c}
}

// Err reports the first invalid option given to New (matching
// ErrConfig): a bad level or dictionary. Sockets call it in socket.New
// (transport.Validator).
func (t *Transport) Err() error { return t.init() }

// Schemes returns "zstd+tcp".
func (t *Transport) Schemes() []string { return []string{Scheme} }

// init builds the codec and the tcp transport on first use.
func (t *Transport) init() error {
	t.once.Do(func() {
		if t.cfg.err != nil {
			t.err = t.cfg.err
			return
		}
		t.codec, t.err = newCodec(t.cfg)
		if t.err != nil {
			return
		}
		t.tcp = tcp.NewWithOptions(Scheme, func() zmtp.Options {
			return zmtp.Options{Codec: newPartCodec(t.codec)}
		})
	})
	return t.err
}

// Dial connects to ep ("host:port") over TCP. The returned Conn has not
// shaken hands; after its handshake it ships the dictionary, if any.
func (t *Transport) Dial(ctx context.Context, ep transport.Endpoint) (transport.Conn, error) {
	if err := t.init(); err != nil {
		return nil, err
	}
	c, err := t.tcp.Dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	return slackConn{c}, nil
}

// Listen binds ep ("host:port"; "*" host and port 0 allowed).
func (t *Transport) Listen(ep transport.Endpoint) (transport.Listener, error) {
	if err := t.init(); err != nil {
		return nil, err
	}
	l, err := t.tcp.Listen(ep)
	if err != nil {
		return nil, err
	}
	return slackListener{l}, nil
}
