package quic_test

import (
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/quic"
)

// A listener and a connector over quic:// with a self-signed certificate;
// a socket would do this through socket.WithTransport(quic.New(...)).
func Example() {
	serverTLS, clientTLS, err := quic.SelfSigned("127.0.0.1")
	if err != nil {
		panic(err)
	}
	server, client := quic.New(serverTLS), quic.New(clientTLS)
	defer server.Close()
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := server.Listen(transport.Endpoint{Scheme: "quic", Address: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			panic(err)
		}
		defer c.Close()
		if _, err := c.Handshake(ctx, &transport.Config{SocketType: "PULL"}); err != nil {
			panic(err)
		}
		m, err := c.ReadMsg()
		if err != nil {
			panic(err)
		}
		got <- string(m.Frames[0])
	}()

	ep, _ := transport.ParseEndpoint(l.Endpoint())
	c, err := client.Dial(ctx, ep)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	peer, err := c.Handshake(ctx, &transport.Config{SocketType: "PUSH"})
	if err != nil {
		panic(err)
	}
	_ = c.WriteMsg(transport.NewMsg([]byte("hello over QUIC")))
	_ = c.Flush()
	fmt.Println(peer.SocketType, <-got)
	// Output: PULL hello over QUIC
}
