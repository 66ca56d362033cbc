package socket_test

import (
	"context"
	"fmt"
	"log"
	"strconv"

	"github.com/brookmq/brook/socket"
)

// A PAIR over inproc is a drop-in for a buffered channel between two
// goroutines: Send blocks once the high-water marks are full, as a send
// on a full channel does, messages arrive in order with their frames
// handed over, not copied, and the same code then works across processes
// by changing the endpoint to tcp:// or ipc://.
func Example_pairAsChannel() {
	ctx := context.Background()
	// ch := make(chan []byte, 100)
	rx, err := socket.New(socket.Pair, socket.WithRecvHWM(100))
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close()
	if err := rx.Bind("inproc://example-pair-as-channel"); err != nil {
		log.Fatal(err)
	}
	tx, err := socket.New(socket.Pair)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Connect("inproc://example-pair-as-channel"); err != nil {
		log.Fatal(err)
	}

	go func() {
		for i := range 3 {
			// ch <- []byte(...)
			if err := tx.Send(ctx, socket.NewMsg([]byte("job-"+strconv.Itoa(i)))); err != nil {
				log.Print(err)
				return
			}
		}
	}()
	for range 3 {
		// m := <-ch
		m, err := rx.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(m.Frames[0]))
	}
	// Output:
	// job-0
	// job-1
	// job-2
}
