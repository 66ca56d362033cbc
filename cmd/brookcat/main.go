// Command brookcat sends and receives messages on any brook socket type
// from a terminal or a shell pipeline, like kcat for Kafka or zmqc for
// ZeroMQ. Lines (or hex, JSON, length-prefixed or raw frames) from stdin
// become messages; received messages go to stdout in the format asked for.
//
//	brookcat -n 3 PULL @tcp://127.0.0.1:5555          # bind, print 3 messages, exit
//	printf 'a\nb\nc\n' | brookcat PUSH tcp://127.0.0.1:5555
//	brookcat -s weather. SUB tcp://127.0.0.1:5556      # subscribe, print forever
//	echo hello | brookcat REQ tcp://127.0.0.1:5557     # print the reply
//	brookcat -echo REP @tcp://127.0.0.1:5557           # answer each request with itself
//	brookcat -out json ROUTER @ipc:///tmp/r            # frames as JSON, routing id included
//	brookcat -keygen server.key                         # a CURVE certificate (and server.key_secret)
//	brookcat -curve-server server.key -curve-allow clients/ PULL @tcp://127.0.0.1:5555
//	echo hi | brookcat -curve-server-key server.key PUSH tcp://127.0.0.1:5555
//
// An endpoint starting with @ is bound, one starting with > (or nothing,
// unless -bind) is connected. Run brookcat -h for every flag; the exit
// codes are listed there too.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
