package zmtp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// reverseCodec is a PartCodec for tests: a part travels as 'E' followed by
// its bytes reversed; 'D' parts are control (a pretend dictionary); 'X'
// parts fail to decode.
type reverseCodec struct {
	hello [][]byte
}

func (c *reverseCodec) Hello() [][]byte { return c.hello }

func (c *reverseCodec) AppendEncode(dst, part []byte) []byte {
	dst = append(dst, 'E')
	for i := len(part) - 1; i >= 0; i-- {
		dst = append(dst, part[i])
	}
	return dst
}

func (c *reverseCodec) Decode(part []byte, budget int64) ([]byte, bool, error) {
	if len(part) == 0 {
		return nil, false, errors.New("empty part")
	}
	switch part[0] {
	case 'D':
		return nil, false, nil
	case 'E':
	default:
		return nil, false, fmt.Errorf("bad sentinel %q", part[0])
	}
	if budget >= 0 && int64(len(part)-1) > budget {
		return nil, false, fmt.Errorf("%w: part of %d bytes, budget %d", transport.ErrTooLarge, len(part)-1, budget)
	}
	plain := part[1:] // aliasing the wire part is allowed
	slices.Reverse(plain)
	return plain, true, nil
}

func TestCodecRoundTrip(t *testing.T) {
	opts := Options{Codec: &reverseCodec{hello: [][]byte{[]byte("Dthe dictionary")}}}
	a, b := pipeConns(t, opts)
	mustHandshake(t, a, b, nil, nil)
	msgs := []transport.Msg{
		transport.NewMsg([]byte("hello")),
		transport.NewMsg([]byte("multi"), nil, bytes.Repeat([]byte("big"), 30000)),
	}
	done := sendAsync(a, msgs...)
	for _, want := range msgs {
		got, err := b.ReadMsg()
		require.NoError(t, err)
		assert.Equal(t, normalise(want.Frames), normalise(got.Frames), "the hello message is not delivered")
	}
	require.NoError(t, <-done)
}

func TestCodecWireForm(t *testing.T) {
	c, p := shaken(t, 1, &transport.Config{SocketType: "SUB"}, Options{Codec: &reverseCodec{hello: [][]byte{[]byte("Ddict")}}})
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("abc"))))
	require.NoError(t, c.WriteSubscription([]byte("topic"), true))
	require.NoError(t, c.Flush())
	_, hello := p.readFrame()
	assert.Equal(t, []byte("Ddict"), hello, "hello parts go out first, as they are")
	flags, body := p.readFrame()
	assert.Equal(t, byte(0), flags)
	assert.Equal(t, []byte("Ecba"), body)
	name, data := p.readCommand()
	assert.Equal(t, cmdSubscribe, name)
	assert.Equal(t, []byte("topic"), data, "commands are never encoded")
}

func TestCodecInbound(t *testing.T) {
	tests := []struct {
		name  string
		max   int64
		input [][]byte
		want  error
	}{
		{"budget", 10, [][]byte{rawFrame(flagMore, []byte("E123456")), rawFrame(0, []byte("E123456"))}, transport.ErrTooLarge},
		{"wire size", 10, [][]byte{rawFrame(0, []byte("E1234567890"))}, transport.ErrTooLarge},
		{"control inside multipart", 0, [][]byte{rawFrame(flagMore, []byte("Eab")), rawFrame(0, []byte("Dx"))}, transport.ErrProtocol},
		{"control with more", 0, [][]byte{rawFrame(flagMore, []byte("Dx")), rawFrame(0, []byte("Eab"))}, transport.ErrProtocol},
		{"decode error", 0, [][]byte{rawFrame(0, []byte("Xab"))}, transport.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: tt.max}, Options{Codec: &reverseCodec{}})
			p.send(tt.input...)
			_, err := c.ReadMsg()
			assert.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("control then message", func(t *testing.T) {
		c, p := shaken(t, 1, &transport.Config{SocketType: "PULL", MaxMsgSize: 8}, Options{Codec: &reverseCodec{}})
		p.send(rawFrame(0, []byte("D-a-dictionary-larger-than-the-limit-is-fine")), rawFrame(0, []byte("E87654321")))
		_, err := c.ReadMsg()
		require.ErrorIs(t, err, transport.ErrTooLarge, "the wire limit applies to control parts too")
	})
}
