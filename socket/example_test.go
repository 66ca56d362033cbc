package socket_test

import (
	"context"
	"fmt"
	"log"

	"github.com/brookmq/brook/socket"
)

// A PULL socket binds, a PUSH socket connects, and a multipart message
// travels between them.
func Example() {
	ctx := context.Background()
	pull, err := socket.New(socket.Pull)
	if err != nil {
		log.Fatal(err)
	}
	defer pull.Close()
	if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}

	push, err := socket.New(socket.Push)
	if err != nil {
		log.Fatal(err)
	}
	defer push.Close()
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		log.Fatal(err)
	}

	if err := push.Send(ctx, socket.NewMsg([]byte("hello"), []byte("world"))); err != nil {
		log.Fatal(err)
	}
	m, err := pull.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d frames: %s %s\n", len(m.Frames), m.Frames[0], m.Frames[1])
	// Output: 2 frames: hello world
}

// Monitor reports each step of a connection's life.
func ExampleSocket_Monitor() {
	pull, _ := socket.New(socket.Pull)
	defer pull.Close()
	events, stop := pull.Monitor()
	defer stop()
	if err := pull.Bind("inproc://example-monitor"); err != nil {
		log.Fatal(err)
	}
	push, _ := socket.New(socket.Push)
	defer push.Close()
	if err := push.Connect("inproc://example-monitor"); err != nil {
		log.Fatal(err)
	}
	for e := range events {
		fmt.Println(e.Type)
		if e.Type == socket.EventHandshakeSucceeded {
			fmt.Println("peer is a", e.Peer.SocketType)
			break
		}
	}
	// Output:
	// listening
	// accepted
	// handshake-succeeded
	// peer is a PUSH
}

// Options are validated when the socket is created.
func ExampleNew() {
	_, err := socket.New(socket.Push, socket.WithSendHWM(-1))
	fmt.Println(err)
	s, err := socket.New(socket.Dealer, socket.WithRoutingID([]byte("worker-1")), socket.WithSendHWM(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Type())
	// Output:
	// brook: bad socket option: send HWM = -1: must be >= 0
	// DEALER
}
