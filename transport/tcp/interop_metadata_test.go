package tcp

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/internal/pyzmq"
	"github.com/brookmq/brook/transport"
)

// READY metadata both ways with libzmq: a libzmq ROUTER sees a brook
// DEALER's routing id, socket type and application properties
// (zmq_msg_gets), and brook sees the ROUTER's ZMQ_METADATA properties,
// whatever the case of the name asked for.
func TestInteropMetadata(t *testing.T) {
	pyzmq.Require(t)
	py := pyzmq.Start(t, pyzmq.Prelude+`
s = ctx.socket(zmq.ROUTER)
s.setsockopt(zmq.METADATA, b"X-Hello:world")
s.setsockopt(zmq.METADATA, b"X-Second:2")
port = s.bind_to_random_port("tcp://127.0.0.1")
emit(port)
def safe(f, k):
    try:
        return f.get(k)
    except zmq.ZMQError as e:
        return "not found"
rid = s.recv()
body = s.recv(copy=False)
emit(rid.hex(), bytes(body.bytes).decode(), body.get("Socket-Type"), body.get("X-From"), safe(body, "Identity"), safe(body, "x-from"))
s.send_multipart([rid, b"reply"])
sys.stdin.read()
s.close(linger=0)
`)
	var port int
	_, err := fmt.Sscanf(py.Line(0), "[%d]", &port)
	require.NoError(t, err)
	c, info := dialShake(t, fmt.Sprintf("tcp://127.0.0.1:%d", port), "DEALER", transport.Config{
		AnnounceIdentity: true,
		Identity:         []byte("brook-1"),
		Properties:       map[string][]byte{"X-From": []byte("brook")},
	})
	assert.Equal(t, "ROUTER", info.SocketType)
	for name, want := range map[string]string{"x-hello": "world", "X-SECOND": "2", "socket-type": "ROUTER"} {
		v, ok := info.Property(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, string(v), name)
	}
	require.NoError(t, c.WriteMsg(transport.NewMsg([]byte("hi"))))
	require.NoError(t, c.Flush())
	var got []any
	require.NoError(t, json.Unmarshal([]byte(py.Line(0)), &got))
	// zmq_msg_gets matches names exactly (so brook sends the canonical
	// spellings "Socket-Type" and "Identity"); on the wire names are
	// case-insensitive, which the brook side checks above.
	assert.Equal(t, []any{fmt.Sprintf("%x", "brook-1"), "hi", "DEALER", "brook", "brook-1", "not found"}, got)
	m, err := c.ReadMsg()
	require.NoError(t, err)
	assert.Equal(t, "reply", string(m.Frames[0]))
	py.CloseInput()
	py.Wait(0)
}
