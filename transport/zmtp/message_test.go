package zmtp

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// sendAsync writes msgs and a Flush on a goroutine and returns its result.
func sendAsync(c *Conn, msgs ...transport.Msg) <-chan error {
	ch := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := c.WriteMsg(m); err != nil {
				ch <- err
				return
			}
		}
		ch <- c.Flush()
	}()
	return ch
}

func TestMessagesRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 254, 255, 256, 2047, 2048, 2049, 40 << 10, 1 << 20}
	var msgs []transport.Msg
	for _, n := range sizes {
		msgs = append(msgs, transport.NewMsg(bytes.Repeat([]byte{byte(n)}, n)))
	}
	msgs = append(msgs,
		transport.NewMsg([]byte("a"), nil, []byte("c")),
		transport.NewMsg(nil, nil),
		transport.NewMsg(bytes.Repeat([]byte("x"), 300), []byte("tail")),
	)
	for name, mk := range map[string]func(*testing.T) (*Conn, *Conn){
		"pipe": func(t *testing.T) (*Conn, *Conn) { return pipeConns(t, Options{}) },
		"tcp":  func(t *testing.T) (*Conn, *Conn) { return tcpConns(t, Options{}) },
	} {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t)
			mustHandshake(t, a, b, nil, nil)
			done := sendAsync(a, msgs...)
			for i, want := range msgs {
				got, err := b.ReadMsg()
				require.NoError(t, err, "message %d", i)
				require.Len(t, got.Frames, len(want.Frames), "message %d", i)
				for j := range want.Frames {
					assert.True(t, bytes.Equal(want.Frames[j], got.Frames[j]), "message %d frame %d", i, j)
				}
			}
			require.NoError(t, <-done)
		})
	}
}

// TestHugeMessage covers a body hundreds of times the read buffer, which
// the reader grows as its bytes arrive.
func TestHugeMessage(t *testing.T) {
	a, b := tcpConns(t, Options{})
	mustHandshake(t, a, b, nil, &transport.Config{SocketType: "PAIR", MaxMsgSize: 64 << 20})
	big := make([]byte, 16<<20+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	done := sendAsync(a, transport.NewMsg([]byte("head"), big))
	m, err := b.ReadMsg()
	require.NoError(t, err)
	require.Len(t, m.Frames, 2)
	assert.Equal(t, "head", string(m.Frames[0]))
	assert.True(t, bytes.Equal(big, m.Frames[1]), "body differs")
	require.NoError(t, <-done)
}
