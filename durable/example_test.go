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
