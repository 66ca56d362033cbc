package pyzmq

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Prelude is Python to put in front of a script: it imports sys, json,
// time and zmq, and defines
//
//	emit(*values)   print values as one JSON line
//	hexed(frames)   a message's frames as a list of hex strings
//	unhex(line)     the frames of a line written by EncodeFrames
//	ctx             a zmq.Context
const Prelude = `import sys, json, time, zmq
def emit(*values):
    print(json.dumps(list(values)), flush=True)
def hexed(frames):
    return [bytes(f).hex() for f in frames]
def unhex(line):
    return [bytes.fromhex(h) for h in json.loads(line)]
ctx = zmq.Context()
`

// EncodeFrames writes frames as the script's unhex reads them: a JSON list
// of hex strings.
func EncodeFrames(frames [][]byte) string {
	hs := make([]string, len(frames))
	for i, f := range frames {
		hs[i] = hex.EncodeToString(f)
	}
	b, _ := json.Marshal(hs)
	return string(b)
}

// DecodeFrames reads a JSON list of hex strings (a script's
// emit(*hexed(frames)) or json.dumps(hexed(frames))) back into frames.
func DecodeFrames(line string) ([][]byte, error) {
	var hs []string
	if err := json.Unmarshal([]byte(line), &hs); err != nil {
		return nil, fmt.Errorf("pyzmq: %q is not a JSON list of hex strings: %w", line, err)
	}
	frames := make([][]byte, len(hs))
	for i, h := range hs {
		f, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("pyzmq: frame %d of %q: %w", i, line, err)
		}
		frames[i] = f
	}
	return frames, nil
}
