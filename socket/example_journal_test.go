package socket_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brookmq/brook/socket"
)

// A journaled PUSH keeps what it sends until a receiver acknowledges it:
// here the receiver connects only after the messages were sent, and gets
// them all; acknowledging after processing (AckSync) means no receiver is
// ever given them again.
func ExampleWithJournalDir() {
	dir, _ := os.MkdirTemp("", "brook-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	push, _ := socket.New(socket.Push, socket.WithJournalDir(filepath.Join(dir, "journal")))
	defer push.Close()
	for _, job := range []string{"resize a.png", "resize b.png"} {
		if err := push.Send(ctx, socket.NewMsg([]byte(job))); err != nil { // durable when it returns
			fmt.Println(err)
		}
	}

	pull, _ := socket.New(socket.Pull)
	defer pull.Close()
	pull.Bind("inproc://example-queue")
	push.Connect("inproc://example-queue")
	for range 2 {
		d, _ := pull.RecvDelivery(ctx)
		fmt.Printf("offset %d, delivery %d: %s\n", d.ID.Offset, d.Count, d.Msg.Frames[0])
		d.AckSync(ctx)
	}
	push.WaitAcked(ctx)
	fmt.Println("backlog:", push.Stats().Journal.End-push.Stats().Journal.Floor)
	// Output:
	// offset 0, delivery 1: resize a.png
	// offset 1, delivery 1: resize b.png
	// backlog: 0
}

// A subscriber of a journaled PUB starts where it likes, here at the
// oldest message, and reads the history, then the live stream, in order.
func ExampleWithStart() {
	dir, _ := os.MkdirTemp("", "brook-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	pub, _ := socket.New(socket.Pub, socket.WithJournalDir(filepath.Join(dir, "journal")))
	defer pub.Close()
	pub.Bind("inproc://example-stream")
	pub.Send(ctx, socket.NewMsg([]byte("tick 1"))) // nobody listens yet
	pub.Send(ctx, socket.NewMsg([]byte("tick 2")))

	sub, _ := socket.New(socket.Sub, socket.WithStart(socket.StartOldest()))
	defer sub.Close()
	sub.Subscribe([]byte("tick"))
	sub.Connect("inproc://example-stream")
	for range 2 {
		d, _ := sub.RecvDelivery(ctx)
		fmt.Printf("offset %d: %s\n", d.ID.Offset, d.Msg.Frames[0])
	}
	// Output:
	// offset 0: tick 1
	// offset 1: tick 2
}
