package zmtp

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// streamRW feeds a fixed byte stream to a Conn and discards what it writes.
type streamRW struct {
	r *bytes.Reader
}

func (s *streamRW) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *streamRW) Write(p []byte) (int, error) { return len(p), nil }
func (s *streamRW) Close() error                { return nil }

// streamConn returns a Conn reading data as the peer's stream.
func streamConn(data []byte, opts Options) *Conn {
	return NewConn(&streamRW{r: bytes.NewReader(data)}, "fuzz-local", "fuzz-peer", opts)
}

// validPrefix is a greeting and READY from a PUSH peer.
func validPrefix() []byte {
	return append(rawGreeting(3, 1, "NULL"), rawReady("PUSH")...)
}

func FuzzGreeting(f *testing.F) {
	f.Add(validPrefix())
	f.Add(rawGreeting(3, 0, "NULL"))
	f.Add(rawGreeting(3, 1, "PLAIN"))
	f.Add(rawGreeting(2, 0, "NULL"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add(append(rawGreeting(3, 1, "NULL"), rawReady("0000")...))
	f.Add(append(rawGreeting(3, 1, "NULL"), rawReady("push")...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= greetingSize {
			g, err := parseGreeting(data)
			if err == nil {
				again, err := parseGreeting(rawGreeting(g.major, g.minor, g.mechanism))
				require.NoError(t, err)
				require.Equal(t, g.major, again.major)
				require.Equal(t, g.minor, again.minor)
				require.Equal(t, g.mechanism, again.mechanism)
			}
		}
		// The whole handshake over the input must end cleanly either way.
		c := streamConn(data, Options{})
		defer c.Close()
		// Only a PUSH peer may talk to a PULL: any other type, however it
		// is spelled, must be refused (a nil PeerTypes would accept all).
		info, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", PeerTypes: []string{"PUSH"}, MaxMsgSize: 1 << 10})
		if err == nil {
			require.Equal(t, "PUSH", info.SocketType)
			require.GreaterOrEqual(t, info.Version, 30)
		}
	})
}

func FuzzFrames(f *testing.F) {
	f.Add([]byte{0, 5, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{flagMore, 1, 'a', flagLong, 0, 0, 0, 0, 0, 0, 0, 1, 'b'})
	f.Add([]byte{flagLong, 0x40, 0, 0, 0, 0, 0, 0, 0})
	f.Add(appendCommand(nil, cmdPing, []byte{0, 10}, []byte("ctx")))
	f.Add(appendCommand(nil, cmdSubscribe, []byte("topic")))
	f.Add(appendCommand(nil, cmdError, errorData("bye")))
	f.Add([]byte{0x08, 0})
	const limit = 1 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		c := streamConn(append(validPrefix(), data...), Options{})
		defer c.Close()
		_, err := c.Handshake(context.Background(), &transport.Config{SocketType: "PULL", MaxMsgSize: limit})
		require.NoError(t, err)
		for {
			m, err := c.ReadMsg()
			if err != nil {
				break
			}
			require.NotEmpty(t, m.Frames)
			require.LessOrEqual(t, m.Size(), limit+len(cmdSubscribe)+minCmdLimit)
			if _, _, isSub := transport.ParseSubscription(m); !isSub {
				require.LessOrEqual(t, m.Size(), limit)
			}
			for _, fr := range m.Frames {
				require.Equal(t, len(fr), cap(fr), "frames are capped so appends never clobber a neighbour")
			}
		}
	})
}

func FuzzMetadata(f *testing.F) {
	f.Add(appendMetadata(nil, []property{{"Socket-Type", []byte("DEALER")}, {"Identity", nil}}))
	f.Add(appendMetadata(nil, []property{{"X-Big", bytes.Repeat([]byte("v"), 300)}}))
	f.Add([]byte{11, 'S', 'o', 'c'})
	f.Add([]byte{1, 'a', 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := parseMetadata(data)
		if err != nil {
			return
		}
		names := slices.Sorted(maps.Keys(props))
		var list []property
		for _, n := range names {
			list = append(list, property{n, props[n]})
		}
		again, err := parseMetadata(appendMetadata(nil, list))
		require.NoError(t, err)
		require.Equal(t, len(props), len(again))
		for n, v := range props {
			require.True(t, bytes.Equal(v, again[n]), "property %q", n)
		}
		if len(data) > 0 {
			data[0] ^= 0xFF // values must not alias the input
			for n, v := range props {
				require.True(t, bytes.Equal(v, again[n]), "property %q changed with its input", n)
			}
		}
	})
}

var _ io.ReadWriteCloser = (*streamRW)(nil)
