package socket_test

import (
	"context"
	"path/filepath"
	"testing"

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
