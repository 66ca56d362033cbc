package interop

import "go.uber.org/goleak"

// zmq4LeakOptions lists go-zeromq/zmq4 goroutines goleak must ignore.
func zmq4LeakOptions() []goleak.Option { return nil }
