package socket_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/tcp"
)

// A peer that announces the journal profile and then sends malformed or
// unexpected journal commands loses its own connection, with a protocol
// error, and nothing else: a good journaled sender on the same PULL goes
// on being served.
func TestJournalMalformedCommandsCostOnlyTheirConnection(t *testing.T) {
	ctx := testCtx(t)
	pull := newSocket(t, socket.Pull)
	ev, stop := pull.Monitor()
	defer stop()
	require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
	good := newSocket(t, socket.Push, socket.WithJournal(openJournal(t)))
	require.NoError(t, good.Connect(pull.LastEndpoint()))
	require.NoError(t, good.Send(ctx, msgOf("before")))
	d, err := pull.RecvDelivery(ctx)
	require.NoError(t, err)
	require.NoError(t, d.Ack())

	// hello is a journaled sender's X-Brook-Journal: version 1, flags 1, a
	// journal id and an epoch.
	hello := append([]byte{1, 1}, make([]byte, 24)...)
	hello[2] = 0xAB
	for _, tc := range []struct {
		name string
		cmd  string
		data []byte
	}{
		{"garbage JDATA", "JDATA", []byte{0xff, 0xff}},
		{"JDATA with a delivery count of 0", "JDATA", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"JACK to a socket without a journal", "JACK", []byte{0, 1, 0, 1}},
		{"JSTREAM to a PULL", "JSTREAM", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"JSUB to a PULL", "JSUB", []byte{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tcp.New().Dial(ctx, mustParse(t, pull.LastEndpoint()))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Handshake(ctx, &transport.Config{SocketType: "PUSH",
				Properties: map[string][]byte{"X-Brook-Journal": hello}})
			require.NoError(t, err)
			require.NoError(t, c.WriteCommand(tc.cmd, tc.data))
			require.NoError(t, c.WriteMsg(msgOf("x")))
			require.NoError(t, c.Flush())
			for {
				e := waitEvent(t, ctx, ev, socket.EventDisconnected)
				if strings.Contains(e.Err.Error(), tc.cmd) {
					assert.ErrorIs(t, e.Err, transport.ErrProtocol)
					break
				}
			}
			_, err = c.ReadMsg()
			assert.Error(t, err, "the PULL dropped the bad peer")
			require.NoError(t, good.Send(ctx, msgOf(tc.name)))
			d, err := pull.RecvDelivery(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.name, string(d.Msg.Frames[0]), "the good sender is still served")
			require.NoError(t, d.Ack())
		})
	}
}

func mustParse(t *testing.T, ep string) transport.Endpoint {
	t.Helper()
	e, err := transport.ParseEndpoint(ep)
	require.NoError(t, err)
	return e
}
