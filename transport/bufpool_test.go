package transport_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
)

// Release clears the message's frame list, so a second Release of the
// message (or of a copy sharing its list) finds nothing to give back.
func TestReleaseClearsFrames(t *testing.T) {
	small, large := []byte("small"), make([]byte, 64<<10)
	m := transport.NewMsg(small, large, nil)
	copied := m
	m.Release()
	assert.Equal(t, [][]byte{nil, nil, nil}, m.Frames)
	assert.Equal(t, [][]byte{nil, nil, nil}, copied.Frames, "copies share the list")
	m.Release()
	copied.Release()
	transport.Msg{}.Release()
	assert.Equal(t, "small", string(small), "frames outside the classes are left alone")
}

// A receiver of large messages gives each back once it is done with it,
// so that the messages after it are read into the same memory rather
// than into new allocations.
func ExampleMsg_Release() {
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

	const n = 100
	for i := range n {
		// Send takes the body over: a new one for every message.
		body := make([]byte, 64<<10)
		body[0] = byte(i)
		if err := push.Send(ctx, socket.NewMsg(body)); err != nil {
			log.Fatal(err)
		}
	}
	sum := 0
	for range n {
		m, err := pull.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		sum += int(m.Frames[0][0])
		// Done with m: its body may now hold a later message.
		m.Release()
	}
	fmt.Println(sum)
	// Output: 4950
}
