package interop

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
)

// A peer that sends and hangs up at once, as a libzmq PUSH does when it
// closes with linger right after its last send, still has every message
// delivered: the messages, the greeting and READY before them, and the
// end of the stream may all arrive in one read, and the end of the
// stream must not cost the messages before it. Both a peer that writes
// everything before brook even answers and one that completes the
// handshake first are tried, with small and large messages.
func TestPeerThatSendsAndHangsUpIsHeard(t *testing.T) {
	big := make([]byte, 200<<10) // larger than the read buffers
	for i := range big {
		big[i] = byte(i)
	}
	for _, tc := range []struct {
		name      string
		handshake bool
		body      []byte
	}{
		{"blind/small", false, []byte("last words")},
		{"blind/large", false, big},
		{"handshaken/small", true, []byte("last words")},
		{"handshaken/large", true, big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := deadline(t)
			pull := newBrook(t, socket.Pull)
			require.NoError(t, pull.Bind("tcp://127.0.0.1:0"))
			const peers, msgs = 10, 5
			for range peers {
				p := dialRaw(t, pull.LastEndpoint())
				var out [][]byte
				if tc.handshake {
					p.handshake("PUSH")
				} else {
					out = append(out, zmtpGreeting(3, 1, "NULL"), zmtpReady("Socket-Type", "PUSH"))
				}
				for i := range msgs {
					out = append(out, zmtpFrame(flagMore, []byte(fmt.Sprint(i))))
					if len(tc.body) > 255 {
						out = append(out, zmtpLongHeader(0, uint64(len(tc.body))), tc.body)
					} else {
						out = append(out, zmtpFrame(0, tc.body))
					}
				}
				p.write(out...)
				if !tc.handshake {
					// Read brook's greeting and READY: closing with them
					// unread would reset the connection (RST), and a reset
					// discards what brook's kernel has not handed over yet.
					p.readGreeting()
					f, err := p.readFrame()
					require.NoError(t, err)
					require.Equal(t, "READY", f.command())
				}
				require.NoError(t, p.conn.Close())
			}
			got := map[string]int{}
			for range peers * msgs {
				m, err := pull.Recv(ctx)
				require.NoError(t, err, "%d of %d messages", sum(got), peers*msgs)
				require.Len(t, m.Frames, 2)
				require.Equal(t, tc.body, m.Frames[1])
				got[string(m.Frames[0])]++
			}
			for i := range msgs {
				require.Equal(t, peers, got[fmt.Sprint(i)], "message %d", i)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
