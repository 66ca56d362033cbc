package inproc

import "github.com/brookmq/brook/transport"

// commandMark marks a queued Msg as a command rather than a message: its
// first frame is this very byte. A message from the application can
// never alias it, so the check is exact and costs one comparison; a
// queue of plain Msg values keeps its size and its speed.
var commandMark = [1]byte{'!'}

// commandMsg wraps a command as a queue entry: the mark, the name and a
// copy of data.
func commandMsg(name string, data []byte) transport.Msg {
	b := make([]byte, len(name)+len(data))
	copy(b, name)
	copy(b[len(name):], data)
	return transport.Msg{Frames: [][]byte{commandMark[:], b[:len(name)], b[len(name):]}}
}

// parseCommand reports whether m is a command entry and returns its name
// and data.
func parseCommand(m transport.Msg) (name string, data []byte, ok bool) {
	if len(m.Frames) != 3 || len(m.Frames[0]) != 1 || &m.Frames[0][0] != &commandMark[0] {
		return "", nil, false
	}
	return string(m.Frames[1]), m.Frames[2], true
}
