// Package transporttest is a conformance suite for brook transports, in
// the spirit of golang.org/x/net/nettest.TestConn: every
// transport.Transport must pass Run, so sockets can treat tcp, ipc,
// inproc and the rest alike.
//
// A transport's own tests call Run with a Factory:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
//			return tcp.New(), "tcp://127.0.0.1:0"
//		}, transporttest.Caps{ByteStream: true})
//	}
//
// Every subtest bounds itself with a context (Timeout): a transport that
// hangs fails the subtest, its connections are closed to unblock it, and
// CI moves on.
package transporttest

import (
	"testing"
	"time"

	"github.com/brookmq/brook/transport"
)

// Factory makes a fresh transport and a bindable endpoint for one subtest:
// "tcp://127.0.0.1:0", a unique ipc path, a unique inproc name. Each
// subtest calls it once; the endpoint must not be bound by anyone else.
type Factory func(t *testing.T) (tr transport.Transport, endpoint string)

// Caps says which optional behaviour a transport has, so the suite tests
// it only where it applies.
type Caps struct {
	// ByteStream is true for transports that decode bytes (tcp, ipc, ...)
	// and therefore enforce Config.MaxMsgSize; inproc passes Msg values
	// and does not.
	ByteStream bool
	// CloseDiscards is true for transports whose Close ends the
	// connection at once, dropping what is still in flight (quic: closing
	// a QUIC connection ends every stream). Delivering what was written is
	// then CloseWrite's job, which the CloseWrite subtest checks; the
	// DrainAfterPeerClose subtest (TCP's close semantics) is left out.
	CloseDiscards bool
}

// Timeout bounds each subtest. A transport that blocks longer fails.
const Timeout = 10 * time.Second

// subtest is one property of the suite.
type subtest struct {
	name string
	fn   func(*env)
}

// Run runs the conformance suite against the transport f makes, one
// subtest per property.
func Run(t *testing.T, f Factory, caps Caps) {
	tests := []subtest{
		{"Handshake", testHandshake},
		{"HandshakeNoIdentity", testHandshakeNoIdentity},
		{"HandshakeEmptyIdentity", testHandshakeEmptyIdentity},
		{"HandshakeLargeMetadata", testHandshakeLargeMetadata},
		{"HandshakeBeforeAccept", testHandshakeBeforeAccept},
		{"EndpointResolved", testEndpointResolved},
		{"ManyConns", testManyConns},
		{"PingPong", testPingPong},
		{"Ordering", testOrdering},
		{"Multipart", testMultipart},
		{"EmptyFrames", testEmptyFrames},
		{"FrameSizes", testFrameSizes},
		{"ManyFrames", testManyFrames},
		{"ReceivedFramesAreOwned", testReceivedFramesAreOwned},
		{"Bidirectional", testBidirectional},
		{"Concurrent", testConcurrent},
		{"CloseMidMessage", testCloseMidMessage},
		{"CloseUnblocksRead", testCloseUnblocksRead},
		{"CloseUnblocksAccept", testCloseUnblocksAccept},
		{"CloseUnblocksWrite", testCloseUnblocksWrite},
		{"PeerCloseUnblocksWrite", testPeerCloseUnblocksWrite},
		{"CloseUnblocksHandshake", testCloseUnblocksHandshake},
		{"PeerCloseFailsHandshake", testPeerCloseFailsHandshake},
		{"ListenerCloseFailsPendingDial", testListenerCloseFailsPendingDial},
		{"ListenerCloseKeepsConns", testListenerCloseKeepsConns},
		{"AcceptHonoursContext", testAcceptHonoursContext},
		{"UseAfterClose", testUseAfterClose},
		{"Incompatible/PUSH-PUSH", incompatible("PUSH", "PUSH")},
		{"Incompatible/PUB-PULL", incompatible("PUB", "PULL")},
		{"Incompatible/REQ-REQ", incompatible("REQ", "REQ")},
		{"HandshakeTimeout", testHandshakeTimeout},
		{"HandshakeHonoursContext", testHandshakeHonoursContext},
		{"Subscription", testSubscription},
		{"Commands", testCommands},
		{"BadCommands", testBadCommands},
		{"CommandsWithoutHandler", testCommandsWithoutHandler},
		{"CommandHandlerError", testCommandHandlerError},
		{"CloseWrite", testCloseWrite},
		{"BindTwice", testBindTwice},
		{"RebindAfterClose", testRebindAfterClose},
		{"DialUnbound", testDialUnbound},
		{"DialBadAddress", testDialBadAddress},
	}
	if !caps.CloseDiscards {
		tests = append(tests, subtest{"DrainAfterPeerClose", testDrainAfterPeerClose})
	}
	if caps.ByteStream {
		tests = append(tests,
			subtest{"MaxMsgSize", testMaxMsgSize},
			subtest{"MaxMsgSizeMultipart", testMaxMsgSizeMultipart},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newEnv(t, f))
		})
	}
}
