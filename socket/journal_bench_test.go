package socket_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// BenchmarkQueueEndToEnd: 256-byte messages from ONE sending goroutine
// over tcp, journaled (Group sync) with SendAsync, received by a PULL that
// acknowledges on receipt; a round ends when every message is durable
// and acknowledged. "plain" is the same without a journal (ends when
// everything is received), "journal" the bare journal from one goroutine
// (AppendMsgAsync, ends when durable).
func BenchmarkQueueEndToEnd(b *testing.B) {
	payload := make([]byte, 256)
	b.Run("journaled", func(b *testing.B) {
		ctx := context.Background()
		log, err := durable.Open(filepath.Join(b.TempDir(), "j"))
		require.NoError(b, err)
		defer log.Close()
		pull, _ := socket.New(socket.Pull)
		defer pull.Close()
		require.NoError(b, pull.Bind("tcp://127.0.0.1:0"))
		push, _ := socket.New(socket.Push, socket.WithJournal(log))
		defer push.Close()
		require.NoError(b, push.Connect(pull.LastEndpoint()))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range b.N {
				if _, err := pull.Recv(ctx); err != nil {
					return
				}
			}
		}()
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		for range b.N {
			if _, err := push.SendAsync(ctx, socket.NewMsg(payload)); err != nil {
				b.Fatal(err)
			}
		}
		<-done
		require.NoError(b, push.WaitAcked(ctx))
	})
	b.Run("plain", func(b *testing.B) {
		ctx := context.Background()
		pull, _ := socket.New(socket.Pull)
		defer pull.Close()
		require.NoError(b, pull.Bind("tcp://127.0.0.1:0"))
		push, _ := socket.New(socket.Push)
		defer push.Close()
		require.NoError(b, push.Connect(pull.LastEndpoint()))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range b.N {
				if _, err := pull.Recv(ctx); err != nil {
					return
				}
			}
		}()
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		for range b.N {
			if err := push.Send(ctx, socket.NewMsg(payload)); err != nil {
				b.Fatal(err)
			}
		}
		<-done
	})
	b.Run("journal", func(b *testing.B) {
		ctx := context.Background()
		log, err := durable.Open(filepath.Join(b.TempDir(), "j"))
		require.NoError(b, err)
		defer log.Close()
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		var last uint64
		for range b.N {
			off, err := log.AppendMsgAsync(ctx, [][]byte{payload})
			if err != nil {
				b.Fatal(err)
			}
			last = off
		}
		require.NoError(b, log.WaitDurable(ctx, last))
	})
}

// BenchmarkStreamLive: 64-byte and 1 KiB messages published from one
// goroutine to one SUB over tcp, journaled (Group sync, SendAsync) and
// plain (Send, with the send HWM raised so that nothing is dropped), timed
// until the subscriber has them all: the live fan-out's cost of the
// journal.
func BenchmarkStreamLive(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, journaled := range []bool{true, false} {
			name := fmt.Sprintf("%dB/plain", size)
			if journaled {
				name = fmt.Sprintf("%dB/journaled", size)
			}
			benchStreamLive(b, name, size, journaled)
		}
	}
}

func benchStreamLive(b *testing.B, name string, size int, journaled bool) {
	payload := make([]byte, size)
	{
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			pub, log, closePub := benchPub(b, journaled, b.N+1)
			defer closePub()
			sub, err := socket.New(socket.Sub, socket.WithStart(socket.StartOldest()))
			require.NoError(b, err)
			defer sub.Close()
			require.NoError(b, sub.Subscribe(nil))
			ev, stop := pub.Monitor()
			require.NoError(b, sub.Connect(pub.LastEndpoint()))
			for e := range ev {
				if e.Type == socket.EventHandshakeSucceeded {
					break
				}
			}
			stop()
			if !journaled {
				// The subscription reaches the PUB after the handshake:
				// wait until it delivers.
				for {
					require.NoError(b, pub.Send(ctx, socket.NewMsg([]byte("warm"))))
					rctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
					_, err := sub.Recv(rctx)
					cancel()
					if err == nil {
						break
					}
				}
			}
			done := make(chan error, 1)
			go func() {
				for range b.N {
					if _, err := sub.Recv(ctx); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			for range b.N {
				if journaled {
					_, err = pub.SendAsync(ctx, socket.NewMsg(payload))
				} else {
					err = pub.Send(ctx, socket.NewMsg(payload))
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, <-done)
			if journaled {
				b.ReportMetric(float64(log.Stats().Syncs)/float64(b.N), "syncs/op")
			}
		})
	}
}

// BenchmarkStreamFanout: 64-byte and 1 KiB messages published from one
// goroutine over tcp to 1, 10 and 100 live SUBs, by a journaled PUB
// (Group sync, SendAsync; batch: SendBatchAsync, fanoutBatch messages at
// a time) and by a plain one (Send, its send HWM raised so that nothing
// is dropped), timed until every subscriber has them all. msg/s/sub is what each subscriber received per second; the ratio
// journal/plain is the live fan-out's cost of the journal (issue 10's
// target is >= 0.7).
func BenchmarkStreamFanout(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, subs := range []int{1, 10, 100} {
			for _, mode := range []string{"journal", "batch", "plain"} {
				b.Run(fmt.Sprintf("%dB/subs=%d/%s", size, subs, mode), func(b *testing.B) {
					benchStreamFanout(b, size, subs, mode)
				})
			}
		}
	}
}

// fanoutWarm marks the messages that bring the subscribers up before the
// timed ones (whose first byte is zero).
const fanoutWarm = 'w'

// fanoutBatch is how many messages the batch mode of
// BenchmarkStreamFanout hands SendBatchAsync at once.
const fanoutBatch = 64

func benchStreamFanout(b *testing.B, size, subs int, mode string) {
	ctx := context.Background()
	journaled := mode != "plain"
	payload := make([]byte, size)
	// Room for every timed message and the warm-up ones before them.
	pub, log, closePub := benchPub(b, journaled, b.N+1<<20)
	defer closePub()
	send := func(m socket.Msg) error { return pub.Send(ctx, m) }
	if journaled {
		send = func(m socket.Msg) error { _, err := pub.SendAsync(ctx, m); return err }
	}

	// Each subscriber counts in once it has a warm-up message (it is then
	// subscribed, and a journal subscriber's stream has started), then
	// receives b.N timed messages.
	ready := make(chan struct{}, subs)
	done := make(chan error, subs)
	for range subs {
		sub, err := socket.New(socket.Sub, socket.WithStart(socket.StartLive()))
		require.NoError(b, err)
		defer sub.Close()
		require.NoError(b, sub.Subscribe(nil))
		require.NoError(b, sub.Connect(pub.LastEndpoint()))
		go func() {
			warm := true
			for got := 0; got < b.N; {
				m, err := sub.Recv(ctx)
				if err != nil {
					done <- err
					return
				}
				if m.Frames[0][0] == fanoutWarm {
					if warm {
						warm = false
						ready <- struct{}{}
					}
					continue
				}
				got++
			}
			done <- nil
		}()
	}
	warm := bytes.Repeat([]byte{fanoutWarm}, size)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for n := 0; n < subs; {
		require.NoError(b, send(socket.NewMsg(warm)))
		select {
		case <-ready:
			n++
		case <-tick.C:
		}
	}

	b.SetBytes(int64(size))
	b.ReportAllocs()
	var st0 durable.Stats
	if log != nil {
		st0 = log.Stats()
	}
	b.ResetTimer()
	cpu := processCPU()
	start := time.Now()
	if mode == "batch" {
		batch := make([]socket.Msg, 0, fanoutBatch)
		for i := range b.N {
			batch = append(batch, socket.NewMsg(payload))
			if len(batch) == fanoutBatch || i == b.N-1 {
				if _, n, err := pub.SendBatchAsync(ctx, batch); err != nil || n != len(batch) {
					b.Fatal(n, err)
				}
				clear(batch)
				batch = batch[:0]
			}
		}
	} else {
		for range b.N {
			if err := send(socket.NewMsg(payload)); err != nil {
				b.Fatal(err)
			}
		}
	}
	for range subs {
		require.NoError(b, <-done)
	}
	elapsed := time.Since(start)
	cpu = processCPU() - cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s/sub")
	// The CPU the whole process spent per message (publisher, journal,
	// every subscriber, the GC): on a machine shared with other work it
	// varies far less than the rate.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	if log != nil {
		// How the journal wrote: bytes a write(2) (one a batch, as each
		// batch is fsynced) and the write time a byte.
		st := log.Stats()
		if syncs, wrote := st.Syncs-st0.Syncs, st.WrittenBytes-st0.WrittenBytes; syncs > 0 && wrote > 0 {
			b.ReportMetric(float64(wrote)/float64(syncs), "B/write")
			b.ReportMetric(float64(st.WriteTime-st0.WriteTime)/float64(wrote), "write-ns/B")
		}
	}
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkJournaledSend: what SendAsync costs the publishing goroutine
// of a journaled PUB with no subscriber (the journal append, its record
// frames and the tail cache), 64 B and 1 KiB messages; the journal's
// writer goroutine writes and syncs meanwhile. The -batch64 runs send
// the same messages with SendBatchAsync, 64 at a time (per message).
func BenchmarkJournaledSend(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, batch := range []int{1, 64} {
			name := fmt.Sprintf("%dB", size)
			if batch > 1 {
				name += fmt.Sprintf("-batch%d", batch)
			}
			b.Run(name, func(b *testing.B) {
				benchJournaledSend(b, size, batch)
			})
		}
	}
}

func benchJournaledSend(b *testing.B, size, batch int) {
	ctx := context.Background()
	log, err := durable.Open(filepath.Join(b.TempDir(), "j"))
	require.NoError(b, err)
	defer log.Close()
	pub, err := socket.New(socket.Pub, socket.WithJournal(log))
	require.NoError(b, err)
	defer pub.Close()
	payload := make([]byte, size)
	msgs := make([]socket.Msg, 0, batch)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var p socket.Pending
	for i := range b.N {
		if batch == 1 {
			if p, err = pub.SendAsync(ctx, socket.NewMsg(payload)); err != nil {
				b.Fatal(err)
			}
			continue
		}
		msgs = append(msgs, socket.NewMsg(payload))
		if len(msgs) == batch || i == b.N-1 {
			var n int
			if p, n, err = pub.SendBatchAsync(ctx, msgs); err != nil || n != len(msgs) {
				b.Fatal(n, err)
			}
			clear(msgs)
			msgs = msgs[:0]
		}
	}
	require.NoError(b, p.Wait(ctx))
}

// benchPub binds a PUB on loopback tcp for a benchmark: journaled on a
// fresh journal (returned), or plain with a send HWM of hwm. The closer
// it returns closes the PUB, then the journal: defer it, since a
// benchmark function runs several times on one *testing.B.
func benchPub(b *testing.B, journaled bool, hwm int) (*socket.Socket, *durable.Log, func()) {
	b.Helper()
	opts := []socket.Option{socket.WithSendHWM(hwm)}
	var log *durable.Log
	if journaled {
		var err error
		log, err = durable.Open(filepath.Join(b.TempDir(), "j"))
		require.NoError(b, err)
		opts = []socket.Option{socket.WithJournal(log)}
	}
	pub, err := socket.New(socket.Pub, opts...)
	if err == nil {
		err = pub.Bind("tcp://127.0.0.1:0")
		if err != nil {
			pub.Close()
		}
	}
	if err != nil && log != nil {
		log.Close()
	}
	require.NoError(b, err)
	return pub, log, func() {
		pub.Close()
		if log != nil {
			log.Close()
		}
	}
}
