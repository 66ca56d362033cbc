package interop

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brookmq/brook/socket"
)

// FuzzPeerStream feeds arbitrary bytes to a live brook PULL from a raw
// peer that completed a valid handshake, then half-closes. Whatever the
// bytes, brook must not panic or hang: it delivers what is valid, drops
// the connection with a monitor event, and keeps serving a good peer.
// One PULL (with a 64 KiB message limit) serves every input, so state
// leaking from one bad connection into the socket would show up in later
// inputs.
func FuzzPeerStream(f *testing.F) {
	seeds := [][]byte{
		nil,
		zmtpFrame(0, []byte("hello")),
		append(zmtpFrame(flagMore, []byte("a")), zmtpFrame(0, nil)...),
		zmtpFrame(0, make([]byte, 300)),
		zmtpLongHeader(0, 1<<62),
		zmtpLongHeader(0, 70000),
		{0x08, 1, 'x'},
		{0x05, 0},
		zmtpCommand("PING", []byte{0, 10, 'c'}),
		zmtpCommand("PONG", nil),
		zmtpCommand("ERROR", []byte{3, 'b', 'a', 'd'}),
		zmtpCommand("READY", nil),
		zmtpCommand("SUBSCRIBE", []byte("topic")),
		zmtpFrame(flagMore, []byte("unfinished")),
		{0x02, 0, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s)
	}

	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	pull := newBrook(f, socket.Pull, socket.WithMaxMsgSize(64<<10))
	events := watchEvents(f, pull)
	if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
		f.Fatal(err)
	}
	push := newBrook(f, socket.Push)
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		f.Fatal(err)
	}
	marker := 0

	f.Fuzz(func(t *testing.T, data []byte) {
		tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
		defer tcancel()
		from := events.len() // local ports get reused across inputs
		raw := dialRaw(t, pull.LastEndpoint())
		raw.handshake("PUSH")
		raw.write(data)
		raw.conn.(*net.TCPConn).CloseWrite()
		local := raw.local()
		e, err := events.awaitFrom(tctx, from, func(e socket.Event) bool {
			return e.Type == socket.EventDisconnected && strings.HasSuffix(e.Remote, local)
		})
		if err != nil {
			t.Fatalf("brook never dropped the raw peer after its %d bytes and EOF: %v", len(data), err)
		}
		if e.Err == nil {
			t.Fatalf("disconnection without a cause: %s", e)
		}
		raw.awaitClosed()

		// The good peer's next message must come through, after whatever
		// valid messages the raw peer's bytes held.
		marker++
		want := []byte("marker-" + strconv.Itoa(marker))
		if err := push.Send(tctx, socket.NewMsg(want)); err != nil {
			t.Fatalf("good peer Send: %v", err)
		}
		for {
			m, err := pull.Recv(tctx)
			if err != nil {
				t.Fatalf("the good peer's message never arrived: %v", err)
			}
			if len(m.Frames) == 1 && bytes.Equal(m.Frames[0], want) {
				break
			}
		}
	})
}
