package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/brookmq/brook/internal/faultproxy"
)

// echoServer starts a TCP server that echoes each connection back, and
// returns its address and a function that stops it (closing what is
// still open).
func echoServer() (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
			}()
		}
	}()
	return ln.Addr().String(), func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// roundTrip writes s to c and reads as many bytes back.
func roundTrip(c net.Conn, s string) string {
	if _, err := c.Write([]byte(s)); err != nil {
		return err.Error()
	}
	b := make([]byte, len(s))
	if _, err := io.ReadFull(c, b); err != nil {
		return err.Error()
	}
	return string(b)
}

// proxiedEcho starts an echo server, a proxy in front of it and a client
// connected through the proxy; stop closes all three.
func proxiedEcho() (p *faultproxy.Proxy, client net.Conn, stop func()) {
	target, stopEcho := echoServer()
	p, err := faultproxy.New(target)
	if err != nil {
		panic(err)
	}
	client, err = net.Dial("tcp", p.Addr())
	if err != nil {
		panic(err)
	}
	return p, client, func() {
		_ = client.Close()
		_ = p.Close()
		stopEcho()
	}
}

// A proxy between a client and an echo server, passing bytes until told
// otherwise.
func Example() {
	target, stop := echoServer()
	defer stop()
	p, err := faultproxy.New(target)
	if err != nil {
		panic(err)
	}
	defer p.Close()

	c, err := net.Dial("tcp", p.Addr()) // the client dials the proxy, not the target
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(roundTrip(c, "hello"))
	// The proxy counts bytes once its write returned, which may be just
	// after the other side read them (even after the echo came back): wait
	// for both directions' counts.
	s, _ := p.WaitStats(context.Background(), func(s faultproxy.Stats) bool {
		return s.ToTarget.Forwarded == 5 && s.ToClient.Forwarded == 5
	})
	fmt.Println(s.Accepted, s.ToTarget.Forwarded, s.ToClient.Forwarded)
	// Output:
	// hello
	// 1 5 5
}

// Stall holds bytes without breaking the connection; Pass delivers them.
func ExampleProxy_Stall() {
	p, c, stop := proxiedEcho()
	defer stop()

	p.Stall(faultproxy.ToClient) // the echo comes back to the proxy and stays there
	_, _ = c.Write([]byte("held"))
	_, _ = p.WaitStats(context.Background(), func(s faultproxy.Stats) bool { return s.ToTarget.Forwarded == 4 })
	fmt.Println("forwarded back while stalled:", p.Stats().ToClient.Forwarded)

	p.Pass(faultproxy.ToClient)
	b := make([]byte, 4)
	_, _ = io.ReadFull(c, b)
	fmt.Println(string(b))
	// Output:
	// forwarded back while stalled: 0
	// held
}

// BlackHole swallows bytes; the sender does not notice.
func ExampleProxy_BlackHole() {
	p, c, stop := proxiedEcho()
	defer stop()

	p.BlackHole(faultproxy.ToTarget)
	_, err := c.Write([]byte("lost"))
	fmt.Println("write error:", err)
	s, _ := p.WaitStats(context.Background(), func(s faultproxy.Stats) bool { return s.ToTarget.Discarded == 4 })
	fmt.Println("discarded:", s.ToTarget.Discarded)

	p.Pass(faultproxy.ToTarget)
	fmt.Println(roundTrip(c, "kept"))
	// Output:
	// write error: <nil>
	// discarded: 4
	// kept
}

// CutAfter cuts a connection after an exact number of bytes: here in the
// middle of what the client sends.
func ExampleProxy_CutAfter() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	received := make(chan string)
	go func() {
		c, _ := ln.Accept()
		defer c.Close()
		b, err := io.ReadAll(c) // up to the end of the stream
		received <- fmt.Sprintf("%q, err %v", b, err)
	}()
	p, _ := faultproxy.New(ln.Addr().String())
	defer p.Close()
	c, _ := net.Dial("tcp", p.Addr())
	defer c.Close()

	cut := p.CutAfter(faultproxy.ToTarget, 5)
	_, _ = c.Write([]byte("hello, world"))
	fmt.Println("target got:", <-received)
	<-cut
	_, err := c.Read(make([]byte, 1))
	fmt.Println("client reset:", errors.Is(err, syscall.ECONNRESET))
	fmt.Println("cuts:", p.Stats().Cuts)
	// Output:
	// target got: "hello", err <nil>
	// client reset: true
	// cuts: 1
}

// ResetAll kills every connection with a TCP reset; new ones still work.
func ExampleProxy_ResetAll() {
	p, c, stop := proxiedEcho()
	defer stop()
	fmt.Println(roundTrip(c, "one"))

	fmt.Println("reset:", p.ResetAll())
	_, err := c.Read(make([]byte, 1))
	fmt.Println("client reset:", errors.Is(err, syscall.ECONNRESET))

	c2, _ := net.Dial("tcp", p.Addr())
	defer c2.Close()
	fmt.Println(roundTrip(c2, "two"))
	// Output:
	// one
	// reset: 1
	// client reset: true
	// two
}

// SetRefusing makes new connections fail while open ones go on.
func ExampleProxy_SetRefusing() {
	p, open, stop := proxiedEcho()
	defer stop()
	// Refusing resets connections the proxy has not accepted yet: wait.
	_, _ = p.WaitStats(context.Background(), func(s faultproxy.Stats) bool { return s.Active == 1 })

	_ = p.SetRefusing(true)
	fmt.Println("new connection fails:", connectAndRead(p.Addr()) != nil)
	fmt.Println(roundTrip(open, "still open"))
	_ = p.SetRefusing(false)
	c, _ := net.Dial("tcp", p.Addr())
	defer c.Close()
	fmt.Println(roundTrip(c, "accepted again"))
	// Output:
	// new connection fails: true
	// still open
	// accepted again
}

// Latency and bandwidth shape the traffic without changing it.
func ExampleProxy_SetLatency() {
	p, c, stop := proxiedEcho()
	defer stop()
	p.SetLatency(faultproxy.Both, 20*time.Millisecond) // a 40 ms round trip
	p.SetBandwidth(faultproxy.ToTarget, 100<<10)       // 100 KiB/s upstream

	fmt.Println(roundTrip(c, "slow, but whole"))
	// Output:
	// slow, but whole
}

// WaitStats waits for what the proxy sees instead of sleeping.
func ExampleProxy_WaitStats() {
	p, _, stop := proxiedEcho() // one connection
	defer stop()
	for range 2 {
		c, _ := net.Dial("tcp", p.Addr())
		defer c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.WaitStats(ctx, func(s faultproxy.Stats) bool { return s.Active == 3 })
	fmt.Println(s.Active, err)
	// Output:
	// 3 <nil>
}
