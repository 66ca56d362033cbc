package zstd_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/zstd"
)

// Two zstd+tcp transports, one per socket; a socket knows the scheme by
// default, so this is what it does underneath.
func Example() {
	pub, sub := zstd.New(), zstd.New(zstd.WithLevel(3))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := pub.Listen(transport.Endpoint{Scheme: zstd.Scheme, Address: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			panic(err)
		}
		if _, err := c.Handshake(ctx, &transport.Config{SocketType: "PUB"}); err != nil {
			panic(err)
		}
		accepted <- c
	}()
	ep, _ := transport.ParseEndpoint(l.Endpoint())
	s, err := sub.Dial(ctx, ep)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if _, err := s.Handshake(ctx, &transport.Config{SocketType: "SUB"}); err != nil {
		panic(err)
	}
	p := <-accepted
	defer p.Close()

	body := bytes.Repeat([]byte(`{"event":"tick","value":42},`), 100) // compressed on the wire
	_ = p.WriteMsg(transport.NewMsg([]byte("ticks"), body))
	_ = p.Flush()
	m, err := s.ReadMsg()
	if err != nil {
		panic(err)
	}
	fmt.Println(string(m.Frames[0]), len(m.Frames[1]), bytes.Equal(m.Frames[1], body))
	// Output: ticks 2800 true
}
