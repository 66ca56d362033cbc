package socket_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/brookmq/brook/socket"
)

// BenchmarkReqRep times REQ/REP round trips over tcp in one process, and
// in the same run the bare loop (a net.Conn each way, length-prefixed
// messages through bufio), so results read as ratios on a noisy shared
// machine. "cancellable" gives every call a ctx that can end, as most
// applications do (brook then arms a context.AfterFunc per inline Recv).
func BenchmarkReqRep(b *testing.B) {
	for _, size := range []int{16, 256} {
		b.Run(fmt.Sprintf("brook/tcp/%dB", size), func(b *testing.B) { benchReqRep(b, size, context.Background()) })
		b.Run(fmt.Sprintf("brook/tcp/cancellable/%dB", size), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			benchReqRep(b, size, ctx)
		})
		b.Run(fmt.Sprintf("bare/tcp/%dB", size), func(b *testing.B) { benchBareRoundTrip(b, size) })
	}
}

func benchReqRep(b *testing.B, size int, ctx context.Context) {
	rep, err := socket.New(socket.Rep)
	if err != nil {
		b.Fatal(err)
	}
	defer rep.Close()
	if err := rep.Bind("tcp://127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	req, err := socket.New(socket.Req)
	if err != nil {
		b.Fatal(err)
	}
	defer req.Close()
	if err := req.Connect(rep.LastEndpoint()); err != nil {
		b.Fatal(err)
	}
	echoed := make(chan error, 1)
	go func() {
		for {
			m, err := rep.Recv(ctx)
			if err == nil {
				err = rep.Send(ctx, m)
			}
			if err != nil {
				echoed <- err
				return
			}
		}
	}()
	body := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := req.Send(ctx, socket.NewMsg(body)); err != nil {
			b.Fatal(err)
		}
		if _, err := req.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rep.Close()
	<-echoed
}

func benchBareRoundTrip(b *testing.B, size int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, w := bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10)
		var buf []byte
		for {
			if buf, err = bareRead(r, buf); err != nil {
				return
			}
			if bareWrite(w, buf) != nil || w.Flush() != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	r, w := bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10)
	body := make([]byte, size)
	var buf []byte
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := bareWrite(w, body); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if buf, err = bareRead(r, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	<-done
}

// bareWrite buffers body behind its 4-byte length.
func bareWrite(w *bufio.Writer, body []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// bareRead reads one length-prefixed message into buf (grown as needed).
func bareRead(r *bufio.Reader, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(r, buf)
	return buf, err
}
