package durable_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/brookmq/brook/durable"
)

// Open a journal, append (each append is fsynced before it returns in the
// default Group mode), read back through a named cursor, and reopen.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "journal")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	l, err := durable.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"alpha", "beta", "gamma"} {
		if _, err := l.Append(ctx, []byte(s)); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := l.AppendMsg(ctx, [][]byte{[]byte("topic"), []byte("delta")}); err != nil {
		log.Fatal(err)
	}

	// A consumer acknowledges what it has processed through a cursor.
	c, err := l.Cursor("worker")
	if err != nil {
		log.Fatal(err)
	}
	r := l.NewReader(c.Offset())
	for r.Offset() < 2 {
		rec, err := r.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s\n", rec.Offset, rec.Data)
		if err := c.Ack(rec.Offset); err != nil {
			log.Fatal(err)
		}
	}
	_ = r.Close()
	if err := l.Close(); err != nil { // commits the cursor
		log.Fatal(err)
	}

	// After a restart the consumer resumes after its last acknowledgement.
	l, err = durable.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	c, err = l.Cursor("worker")
	if err != nil {
		log.Fatal(err)
	}
	r = l.NewReader(c.Offset())
	defer r.Close()
	for r.Offset() < l.End() {
		rec, err := r.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		frames, _ := rec.Frames()
		fmt.Printf("%d %q\n", rec.Offset, frames)
	}
	// Output:
	// 0 alpha
	// 1 beta
	// 2 ["gamma"]
	// 3 ["topic" "delta"]
}

// One goroutine keeps many appends in flight: AppendAsync returns the
// offset as soon as the record is queued, and WaitDurable reports when it
// has been fsynced (in Group mode, one fsync covers everything queued
// meanwhile).
func ExampleLog_AppendAsync() {
	dir, err := os.MkdirTemp("", "journal")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, err := durable.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	var last uint64
	for i := range 1000 {
		off, err := l.AppendMsgAsync(ctx, [][]byte{[]byte("orders"), fmt.Appendf(nil, "order %d", i)})
		if err != nil {
			log.Fatal(err) // ErrTooLarge, ErrFull, the sticky ErrFailed, ...
		}
		last = off
	}
	// Acknowledge upstream only what is durable.
	if err := l.WaitDurable(ctx, last); err != nil {
		log.Fatal(err)
	}
	fmt.Println("durable up to", l.DurableEnd(), "in epoch", l.Epoch().N)
	// Output:
	// durable up to 1000 in epoch 1
}

// A receiver drops messages it has already acknowledged, across restarts,
// with a positions store: one position per sending journal, committed in
// groups; when the sender's journal starts a new epoch, the acknowledgements
// from its stable point on are forgotten (those offsets now hold other
// messages).
func ExampleOpenPositions() {
	dir, err := os.MkdirTemp("", "positions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	ps, err := durable.OpenPositions(dir)
	if err != nil {
		log.Fatal(err)
	}
	sender := durable.JournalID{0xAB}
	p, err := ps.Position(sender.String())
	if err != nil {
		log.Fatal(err)
	}
	deliver := func(epoch, off uint64, stable uint64) {
		if epoch > p.Epoch() {
			// The sender said: offsets below stable are what you saw.
			if err := p.Rewind(epoch, stable); err != nil {
				log.Fatal(err)
			}
		}
		if p.Acked(off) {
			fmt.Println("duplicate", off)
			return
		}
		fmt.Println("deliver", off)
		if err := p.Ack(off); err != nil {
			log.Fatal(err) // ErrRangesFull: leave it unacknowledged
		}
	}
	deliver(1, 0, 0)
	deliver(1, 1, 0)
	deliver(1, 1, 0) // redelivered after a lost ack
	if err := ps.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	deliver(2, 1, 1) // epoch 2: offset 1 was rewritten
	if err := ps.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// deliver 0
	// deliver 1
	// duplicate 1
	// deliver 1
}
