package socket_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport/quic"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transportCase binds a socket on one transport and gives the options a
// socket needs to use it.
type transportCase struct {
	name string
	ep   func(t *testing.T) string
	opts func(t *testing.T) []socket.Option
	// release frees what opts made (a QUIC transport's UDP socket) at
	// once, as a process exit would; opts' cleanup does it otherwise.
	release func(opts []socket.Option)
}

func allTransports(t *testing.T) []transportCase {
	server, client, err := quic.SelfSigned("127.0.0.1")
	require.NoError(t, err)
	// One QUIC transport per socket, closed when the test ends; both sides
	// present and trust the same self-signed certificate.
	conf := server.Clone()
	conf.RootCAs = client.RootCAs
	transports := make(map[*socket.Option]*quic.Transport)
	quicOpts := func(t *testing.T) []socket.Option {
		tr := quic.New(conf.Clone())
		t.Cleanup(func() { tr.Close() })
		opts := []socket.Option{socket.WithTransport(tr)}
		transports[&opts[0]] = tr
		return opts
	}
	quicRelease := func(opts []socket.Option) { transports[&opts[0]].Close() }
	none := func(*testing.T) []socket.Option { return nil }
	nothing := func([]socket.Option) {}
	return []transportCase{
		{"tcp", func(t *testing.T) string { return "tcp://127.0.0.1:0" }, none, nothing},
		{"ipc", func(t *testing.T) string { return "ipc://" + t.TempDir() + "/s" }, none, nothing},
		{"inproc", func(t *testing.T) string { return inprocEndpoint(t) }, none, nothing},
		{"zstd+tcp", func(t *testing.T) string { return "zstd+tcp://127.0.0.1:0" }, none, nothing},
		{"quic", func(t *testing.T) string { return "quic://127.0.0.1:0" }, quicOpts, quicRelease},
	}
}

// Every pattern works over every transport: PUSH/PULL, PUB/SUB with
// filtering, REQ/REP, DEALER/ROUTER addressing by identity, PAIR.
func TestPatternsOverEveryTransport(t *testing.T) {
	for _, tc := range allTransports(t) {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(typ socket.Type, extra ...socket.Option) *socket.Socket {
				return newSocket(t, typ, append(tc.opts(t), extra...)...)
			}
			pair := func(a, b *socket.Socket) {
				require.NoError(t, a.Bind(tc.ep(t)))
				require.NoError(t, b.Connect(a.LastEndpoint()))
			}
			t.Run("pushpull", func(t *testing.T) {
				ctx := testCtx(t)
				pull, push := mk(socket.Pull), mk(socket.Push)
				pair(pull, push)
				big := make([]byte, 1<<20)
				big[12345] = 7
				require.NoError(t, push.Send(ctx, socket.NewMsg([]byte("a"), nil, big)))
				m, err := pull.Recv(ctx)
				require.NoError(t, err)
				require.Len(t, m.Frames, 3)
				assert.Equal(t, "a", string(m.Frames[0]))
				assert.Empty(t, m.Frames[1])
				assert.Equal(t, big, m.Frames[2])
			})
			t.Run("pubsub", func(t *testing.T) {
				ctx := testCtx(t)
				pub, sub := mk(socket.Pub), mk(socket.Sub)
				pair(pub, sub)
				require.NoError(t, sub.Subscribe([]byte("weather.")))
				// Subscriptions travel asynchronously: publish until one
				// arrives, then check filtering on what follows.
				for {
					require.NoError(t, pub.Send(ctx, msgOf("weather.sync")))
					short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
					_, err := sub.Recv(short)
					cancel()
					if err == nil {
						break
					}
					require.ErrorIs(t, err, context.DeadlineExceeded)
					require.NoError(t, ctx.Err(), "no probe arrived")
				}
				require.NoError(t, pub.Send(ctx, msgOf("sports.goal")))
				require.NoError(t, pub.Send(ctx, msgOf("weather.rain")))
				for {
					m, err := sub.Recv(ctx)
					require.NoError(t, err)
					if string(m.Frames[0]) == "weather.sync" {
						continue
					}
					assert.Equal(t, "weather.rain", string(m.Frames[0]))
					break
				}
			})
			t.Run("reqrep", func(t *testing.T) {
				ctx := testCtx(t)
				rep, req := mk(socket.Rep), mk(socket.Req)
				pair(rep, req)
				go func() {
					for {
						m, err := rep.Recv(ctx)
						if err != nil {
							return
						}
						if rep.Send(ctx, socket.NewMsg(append([]byte("re:"), m.Frames[0]...))) != nil {
							return
						}
					}
				}()
				for i := 0; i < 20; i++ {
					require.NoError(t, req.Send(ctx, msgOf(fmt.Sprint(i))))
					m, err := req.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, fmt.Sprintf("re:%d", i), string(m.Frames[0]))
				}
			})
			t.Run("dealerrouter", func(t *testing.T) {
				ctx := testCtx(t)
				router := mk(socket.Router)
				dealer := mk(socket.Dealer, socket.WithRoutingID([]byte("d1")))
				pair(router, dealer)
				require.NoError(t, dealer.Send(ctx, msgOf("hello")))
				m, err := router.Recv(ctx)
				require.NoError(t, err)
				require.Len(t, m.Frames, 2)
				assert.Equal(t, "d1", string(m.Frames[0]))
				require.NoError(t, router.Send(ctx, socket.NewMsg([]byte("d1"), []byte("back"))))
				m, err = dealer.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "back", string(m.Frames[0]))
			})
			t.Run("pair", func(t *testing.T) {
				ctx := testCtx(t)
				a, b := mk(socket.Pair), mk(socket.Pair)
				pair(a, b)
				require.NoError(t, b.Send(ctx, msgOf("ping")))
				m, err := a.Recv(ctx)
				require.NoError(t, err)
				assert.Equal(t, "ping", string(m.Frames[0]))
			})
		})
	}
}
