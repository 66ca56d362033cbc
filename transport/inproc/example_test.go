package inproc_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// Connect before bind: the Dial waits for the name to be bound, then both
// ends shake hands and a message crosses without being copied.
func Example() {
	ctx := context.Background()
	tr := inproc.New(inproc.NewNamespace())
	ep := transport.Endpoint{Scheme: "inproc", Address: "workers"}

	dialed := make(chan transport.Conn)
	go func() {
		c, err := tr.Dial(ctx, ep) // waits: nobody has bound "workers" yet
		if err != nil {
			panic(err)
		}
		dialed <- c
	}()

	l, err := tr.Listen(ep)
	if err != nil {
		panic(err)
	}
	defer l.Close()
	server, err := l.Accept(ctx)
	if err != nil {
		panic(err)
	}
	defer server.Close()
	client := <-dialed
	defer client.Close()

	go func() {
		if _, err := client.Handshake(ctx, &transport.Config{SocketType: "PUSH"}); err != nil {
			panic(err)
		}
		if err := client.WriteMsg(transport.NewMsg([]byte("job"), []byte("42"))); err != nil {
			panic(err)
		}
	}()
	peer, err := server.Handshake(ctx, &transport.Config{SocketType: "PULL"})
	if err != nil {
		panic(err)
	}
	m, err := server.ReadMsg()
	if err != nil {
		panic(err)
	}
	fmt.Println(peer.SocketType, peer.Version, string(m.Frames[0]), string(m.Frames[1]))
	// Output: PUSH 31 job 42
}

// A Dial with a context that is already done never waits: it tells at once
// whether the name is bound, which a socket can report as a delayed
// connect before it waits in earnest.
func ExampleTransport_Dial_nonBlocking() {
	tr := inproc.New(inproc.NewNamespace())
	now, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tr.Dial(now, transport.Endpoint{Scheme: "inproc", Address: "not-yet"})
	fmt.Println(errors.Is(err, transport.ErrNoEndpoint))
	// Output: true
}
