package socket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

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

// PUB/SUB: a subscriber gets only the topics it subscribed to. The
// publisher is an XPUB here, so it can wait for the subscription before
// publishing: a plain PUB drops whatever it sends before a subscriber's
// subscription has arrived (the "slow joiner").
func Example_pubSub() {
	ctx := context.Background()
	pub, _ := socket.New(socket.XPub)
	defer pub.Close()
	if err := pub.Bind("inproc://example-pubsub"); err != nil {
		log.Fatal(err)
	}
	sub, _ := socket.New(socket.Sub)
	defer sub.Close()
	if err := sub.Subscribe([]byte("weather.")); err != nil {
		log.Fatal(err)
	}
	if err := sub.Connect("inproc://example-pubsub"); err != nil {
		log.Fatal(err)
	}

	// The XPUB receives the subscription as a message: 0x01 + topic.
	m, err := pub.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("subscribed: %q\n", m.Frames[0][1:])

	for _, topic := range []string{"weather.oslo", "sport.results", "weather.bern"} {
		if err := pub.Send(ctx, socket.NewMsg([]byte(topic), []byte("..."))); err != nil {
			log.Fatal(err)
		}
	}
	for range 2 {
		m, err := sub.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("received", string(m.Frames[0]))
	}
	// Output:
	// subscribed: "weather."
	// received weather.oslo
	// received weather.bern
}

// REQ/REP: strict request, reply, request, reply. The REP answers
// whoever asked; the envelope that says who is handled for you.
func Example_reqRep() {
	ctx := context.Background()
	rep, _ := socket.New(socket.Rep)
	defer rep.Close()
	if err := rep.Bind("inproc://example-reqrep"); err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			m, err := rep.Recv(ctx)
			if err != nil {
				return // closed
			}
			reply := strings.ToUpper(string(m.Frames[0]))
			if err := rep.Send(ctx, socket.NewMsg([]byte(reply))); err != nil {
				return
			}
		}
	}()

	req, _ := socket.New(socket.Req)
	defer req.Close()
	if err := req.Connect("inproc://example-reqrep"); err != nil {
		log.Fatal(err)
	}
	for _, q := range []string{"hello", "again"} {
		if err := req.Send(ctx, socket.NewMsg([]byte(q))); err != nil {
			log.Fatal(err)
		}
		m, err := req.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(q, "->", string(m.Frames[0]))
	}
	// A second request before the reply is a state error.
	_ = req.Send(ctx, socket.NewMsg([]byte("one")))
	err := req.Send(ctx, socket.NewMsg([]byte("two")))
	fmt.Println(errors.Is(err, socket.ErrState))
	// Output:
	// hello -> HELLO
	// again -> AGAIN
	// true
}

// DEALER/ROUTER: a ROUTER sees who sent each message (the routing id
// frame it prepends) and addresses its replies with it; a DEALER sends
// and receives freely, without REQ's lockstep.
func Example_dealerRouter() {
	ctx := context.Background()
	router, _ := socket.New(socket.Router)
	defer router.Close()
	if err := router.Bind("inproc://example-dealer-router"); err != nil {
		log.Fatal(err)
	}
	dealer, _ := socket.New(socket.Dealer, socket.WithRoutingID([]byte("client-7")))
	defer dealer.Close()
	if err := dealer.Connect("inproc://example-dealer-router"); err != nil {
		log.Fatal(err)
	}

	for _, job := range []string{"job-1", "job-2"} {
		if err := dealer.Send(ctx, socket.NewMsg([]byte(job))); err != nil {
			log.Fatal(err)
		}
	}
	for range 2 {
		m, err := router.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		id, body := m.Frames[0], m.Frames[1]
		fmt.Printf("from %s: %s\n", id, body)
		if err := router.Send(ctx, socket.NewMsg(id, append([]byte("done "), body...))); err != nil {
			log.Fatal(err)
		}
	}
	for range 2 {
		m, err := dealer.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(m.Frames[0]))
	}
	// Output:
	// from client-7: job-1
	// from client-7: job-2
	// done job-1
	// done job-2
}

// PAIR: exactly two sockets, both ways.
func Example_pair() {
	ctx := context.Background()
	a, _ := socket.New(socket.Pair)
	defer a.Close()
	if err := a.Bind("inproc://example-pair"); err != nil {
		log.Fatal(err)
	}
	b, _ := socket.New(socket.Pair)
	defer b.Close()
	if err := b.Connect("inproc://example-pair"); err != nil {
		log.Fatal(err)
	}
	if err := a.Send(ctx, socket.NewMsg([]byte("ping"))); err != nil {
		log.Fatal(err)
	}
	m, _ := b.Recv(ctx)
	fmt.Println("b got", string(m.Frames[0]))
	if err := b.Send(ctx, socket.NewMsg([]byte("pong"))); err != nil {
		log.Fatal(err)
	}
	m, _ = a.Recv(ctx)
	fmt.Println("a got", string(m.Frames[0]))
	// Output:
	// b got ping
	// a got pong
}

// A PUSH queues up to its high-water mark for a peer that is not there
// yet; then Send blocks until ctx ends. Stats shows the queue.
func ExampleWithSendHWM() {
	push, _ := socket.New(socket.Push, socket.WithSendHWM(2), socket.WithLinger(0))
	defer push.Close()
	if err := push.Connect("inproc://example-hwm-nobody-yet"); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		if err := push.Send(ctx, socket.NewMsg([]byte{byte(i)})); err != nil {
			log.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err := push.Send(short, socket.NewMsg([]byte("third")))
	fmt.Println(errors.Is(err, context.DeadlineExceeded))

	st := push.Stats()
	fmt.Printf("sent %d, queued %d, connected %v\n", st.Sent, st.Peers[0].Queued, st.Peers[0].Connected)
	// Output:
	// true
	// sent 2, queued 2, connected false
}

// Stats counts messages per socket and per peer; a SUB that unsubscribes
// is told apart by the XPUB, which sees the cancellation (0x00 + topic).
func ExampleSocket_Stats() {
	ctx := context.Background()
	pub, _ := socket.New(socket.XPub)
	defer pub.Close()
	if err := pub.Bind("inproc://example-stats"); err != nil {
		log.Fatal(err)
	}
	sub, _ := socket.New(socket.Sub)
	defer sub.Close()
	_ = sub.Subscribe([]byte("a"))
	if err := sub.Connect("inproc://example-stats"); err != nil {
		log.Fatal(err)
	}
	m, _ := pub.Recv(ctx) // 0x01 "a"
	fmt.Printf("%x\n", m.Frames[0])

	for _, topic := range []string{"a1", "b1", "a2"} {
		_ = pub.Send(ctx, socket.NewMsg([]byte(topic)))
	}
	for range 2 {
		_, _ = sub.Recv(ctx)
	}
	_ = sub.Unsubscribe([]byte("a"))
	m, _ = pub.Recv(ctx) // 0x00 "a"
	fmt.Printf("%x\n", m.Frames[0])

	st := pub.Stats()
	fmt.Printf("XPUB sent %d, received %d, dropped with no subscriber %d\n", st.Sent, st.Received, st.Dropped[socket.DropNoPeer])
	fmt.Printf("SUB received %d from %d peer(s)\n", sub.Stats().Received, len(sub.Stats().Peers))
	// Output:
	// 0161
	// 0061
	// XPUB sent 3, received 2, dropped with no subscriber 1
	// SUB received 2 from 1 peer(s)
}

// Bind with port 0 picks a free port; LastEndpoint tells which.
func ExampleSocket_LastEndpoint() {
	s, _ := socket.New(socket.Pull)
	defer s.Close()
	if err := s.Bind("tcp://127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	ep := s.LastEndpoint()
	port := strings.TrimPrefix(ep, "tcp://127.0.0.1:")
	fmt.Println(port != ep && port != "0")
	// Output: true
}

// Close delivers what is queued within the linger time before it
// returns: the PULL still gets every message after the PUSH is gone.
func ExampleSocket_Close() {
	ctx := context.Background()
	pull, _ := socket.New(socket.Pull)
	defer pull.Close()
	if err := pull.Bind("inproc://example-close"); err != nil {
		log.Fatal(err)
	}
	push, _ := socket.New(socket.Push, socket.WithLinger(time.Second))
	if err := push.Connect("inproc://example-close"); err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"one", "two", "three"} {
		_ = push.Send(ctx, socket.NewMsg([]byte(s)))
	}
	if err := push.Close(); err != nil {
		log.Fatal(err)
	}
	err := push.Send(ctx, socket.NewMsg([]byte("late")))
	fmt.Println(errors.Is(err, socket.ErrClosed))
	for range 3 {
		m, _ := pull.Recv(ctx)
		fmt.Println(string(m.Frames[0]))
	}
	// Output:
	// true
	// one
	// two
	// three
}
