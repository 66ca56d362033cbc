package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brookmq/brook/socket"
)

// Exit codes.
const (
	// exitOK: the input was sent, -n messages arrived, or the run was
	// ended (by -timeout or a signal) without a count to reach.
	exitOK = 0
	// exitError: a socket, input or output error.
	exitError = 1
	// exitUsage: a bad command line.
	exitUsage = 2
	// exitIncomplete: -timeout or a signal ended the run before -n
	// messages arrived, or a send stayed blocked for -timeout.
	exitIncomplete = 3
)

// errUsage marks command-line errors.
var errUsage = errors.New("brookcat: bad command line")

// config is a parsed command line.
type config struct {
	typ       socket.Type
	endpoints []endpointArg
	bindAll   bool // -bind: endpoints without a prefix bind
	in, out   string
	delim     string
	count     int
	timeout   time.Duration
	subs      []string
	waitPeers int
	identity  string
	hwm       int
	linger    time.Duration
	maxSize   int64
	echo      bool
	readOnly  bool
	writeOnly bool
	quiet     bool
	verbose   bool
	sec       secFlags
}

// endpointArg is one endpoint with its direction.
type endpointArg struct {
	bind bool
	ep   string
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

const usageHead = `usage: brookcat [flags] TYPE ENDPOINT [ENDPOINT...]
       brookcat -keygen PATH

TYPE is a socket type: PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH XPUB XSUB.
ENDPOINT is tcp://host:port, ipc:///path, inproc://name, zstd+tcp://host:port;
"@endpoint" binds, ">endpoint" (or a bare endpoint, unless -bind) connects.

What each type does with stdin and stdout:
  PUSH PUB           send every input message; exit at the end of the input
  PULL SUB           print every message received
  REQ                send each input message, print its reply
  REP                print each request, reply with the next input message (or -echo)
  PAIR DEALER ROUTER XPUB XSUB
                     both at once: send the input, print what arrives; with -n, exit
                     once -n messages arrived and the input is all sent
                     (-r: only print, -w: only send, exit at the end of the input)
A ROUTER's first frame is the peer's routing id, both ways; an XPUB prints
subscriptions as \x01topic (\x00topic to cancel).

Formats (-in, -out):
  text   one message per line, frames separated by -d
  hex    one message per line, each frame in hex, separated by -d
  json   one JSON value per message: {"frames":[...]} (input: also a bare array);
         a frame is a string if it is UTF-8, else {"hex":"..."} (input: also {"base64":"..."})
  lp     binary: per message a 4-byte big-endian frame count, then per frame
         a 4-byte big-endian length and the bytes
  raw    input: all of stdin is one single-frame message; output: frames as they
         are, nothing between them (with -n 1 to receive one file)

Security (tcp, ipc, zstd+tcp; inproc is never secured), one role per socket,
independent of bind and connect:
  CURVE client   -curve-server-key KEY [-curve-cert CERT]
  CURVE server   -curve-server CERT [-curve-allow DIR]
  PLAIN client   -plain-user NAME -plain-password PASS
  PLAIN server   -plain-allow NAME=PASS ... and/or -plain-passwords FILE
KEY is a Z85 public key (40 characters) or a certificate file; CERT is a
certificate file with its secret key (in it, or in CERT_secret), as written by
-keygen, CZMQ or pyzmq's zmq.auth. A server's -out json adds the peer's
authenticated "user" (PLAIN: the user name, CURVE: the client's public key).
A peer refusing this socket's credentials (or a CURVE server with another key)
ends the run with exit code 1; peers this socket refuses are noted on stderr.

Exit codes: 0 done (also: -timeout or a signal ended a receiver that had no -n);
1 socket, input or output error, or messages not delivered by the end of -linger;
2 bad command line (also: a key or certificate file it names is unusable); 3 -timeout or a signal came before -n messages (or before the
input was all sent), or a send stayed blocked for -timeout.

flags:
`

func newFlagSet(c *config, subs *multiFlag) *flag.FlagSet {
	fs := flag.NewFlagSet("brookcat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.in, "in", "text", "input format: text, hex, json, lp or raw")
	fs.StringVar(&c.out, "out", "text", "output format: text, hex, json, lp or raw")
	fs.StringVar(&c.delim, "d", "\t", "frame delimiter of text and hex lines (\"\": one frame per line)")
	fs.IntVar(&c.count, "n", 0, "exit after this many messages received (PUSH and PUB: sent); 0: no limit")
	fs.DurationVar(&c.timeout, "timeout", 0, "stop when nothing arrives for this long, or a send blocks this long; 0: wait forever")
	fs.Var(subs, "s", "subscribe to this prefix (SUB, XSUB; repeatable); a SUB without -s gets everything")
	fs.IntVar(&c.waitPeers, "wait-peers", 0, "before the first send, wait for this many peers to connect (XPUB: to subscribe)")
	fs.StringVar(&c.identity, "identity", "", "routing id announced to peers (REQ, DEALER, ROUTER)")
	fs.IntVar(&c.hwm, "hwm", socket.DefaultHWM, "send and receive high-water mark, messages per peer (0: none)")
	fs.DurationVar(&c.linger, "linger", socket.DefaultLinger, "at exit, how long to keep delivering queued messages")
	fs.Int64Var(&c.maxSize, "max-size", socket.DefaultMaxMsgSize, "largest message accepted, from the input and from peers")
	fs.BoolVar(&c.echo, "echo", false, "REP: reply with the request itself")
	fs.BoolVar(&c.readOnly, "r", false, "only receive: ignore stdin")
	fs.BoolVar(&c.writeOnly, "w", false, "only send: print nothing, exit at the end of the input")
	fs.BoolVar(&c.bindAll, "bind", false, "bind endpoints that have no @ or > prefix")
	fs.BoolVar(&c.quiet, "q", false, "no notes on stderr (errors are still printed)")
	fs.BoolVar(&c.verbose, "v", false, "print the sockets' monitor events on stderr")
	fs.StringVar(&c.sec.curveServerKey, "curve-server-key", "", "be a CURVE client of the server with this public key: Z85 text or a certificate file")
	fs.StringVar(&c.sec.curveCert, "curve-cert", "", "CURVE client: this certificate file's key pair (default: a new key pair for this run)")
	fs.StringVar(&c.sec.curveServer, "curve-server", "", "be a CURVE server with the key pair of this certificate file")
	fs.StringVar(&c.sec.curveAllow, "curve-allow", "", "CURVE server: admit only the clients whose public certificates are in this directory (reread when it changes); without it, any client that knows the server's public key is admitted: traffic is encrypted, but clients are not authenticated")
	fs.StringVar(&c.sec.plainUser, "plain-user", "", "be a PLAIN client with this user name (PLAIN sends it and the password in clear)")
	fs.StringVar(&c.sec.plainPassword, "plain-password", "", "PLAIN client: the password (visible to local users in the process list)")
	fs.Var(&c.sec.plainAllow, "plain-allow", "be a PLAIN server admitting this `user=password` (repeatable)")
	fs.StringVar(&c.sec.plainFile, "plain-passwords", "", "be a PLAIN server admitting the users of this file: user=password lines, # comments")
	fs.StringVar(&c.sec.keygen, "keygen", "", "write a new CURVE certificate to this path and path_secret, print its public key, and exit")
	return fs
}

// usage writes the help text.
func usage(w io.Writer) {
	var c config
	var subs multiFlag
	fs := newFlagSet(&c, &subs)
	fmt.Fprint(w, usageHead)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseArgs parses the command line. Errors match errUsage, or are
// flag.ErrHelp.
func parseArgs(args []string) (*config, error) {
	c := &config{}
	var subs multiFlag
	fs := newFlagSet(c, &subs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	c.subs = subs
	rest := fs.Args()
	if c.sec.keygen != "" {
		if len(rest) > 0 || fs.NFlag() > 1 {
			return nil, fmt.Errorf("%w: -keygen takes no other flag and no socket", errUsage)
		}
		return c, nil
	}
	if len(rest) < 2 {
		return nil, fmt.Errorf("%w: need a socket type and at least one endpoint", errUsage)
	}
	typ, err := parseType(rest[0])
	if err != nil {
		return nil, err
	}
	c.typ = typ
	for _, a := range rest[1:] {
		ea, err := parseEndpoint(a, c.bindAll)
		if err != nil {
			return nil, err
		}
		c.endpoints = append(c.endpoints, ea)
	}
	return c, c.validate()
}

// types lists the socket types by name.
func types() []socket.Type {
	return []socket.Type{socket.Pair, socket.Pub, socket.Sub, socket.Req, socket.Rep, socket.Dealer,
		socket.Router, socket.Pull, socket.Push, socket.XPub, socket.XSub}
}

func parseType(s string) (socket.Type, error) {
	for _, t := range types() {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown socket type %q: want PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH XPUB XSUB", errUsage, s)
}

// parseEndpoint reads "@ep" (bind), ">ep" (connect) or "ep" (bindAll
// decides).
func parseEndpoint(a string, bindAll bool) (endpointArg, error) {
	e := endpointArg{bind: bindAll, ep: a}
	switch {
	case strings.HasPrefix(a, "@"):
		e = endpointArg{bind: true, ep: a[1:]}
	case strings.HasPrefix(a, ">"):
		e = endpointArg{bind: false, ep: a[1:]}
	}
	if !strings.Contains(e.ep, "://") {
		return e, fmt.Errorf("%w: %q is not an endpoint (scheme://address)", errUsage, a)
	}
	return e, nil
}

func (c *config) validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{errUsage}, a...)...) }
	if err := c.sec.check(); err != nil {
		return err
	}
	for _, f := range []string{c.in, c.out} {
		switch f {
		case "text", "hex", "json", "lp", "raw":
		default:
			return bad("unknown format %q: want text, hex, json, lp or raw", f)
		}
	}
	switch {
	case c.count < 0:
		return bad("-n must not be negative")
	case c.timeout < 0:
		return bad("-timeout must not be negative")
	case c.waitPeers < 0:
		return bad("-wait-peers must not be negative")
	case c.maxSize <= 0:
		return bad("-max-size must be positive")
	case c.readOnly && c.writeOnly:
		return bad("-r and -w exclude each other")
	case len(c.subs) > 0 && c.typ != socket.Sub && c.typ != socket.XSub:
		return bad("-s is for SUB and XSUB sockets")
	case c.echo && c.typ != socket.Rep:
		return bad("-echo is for REP sockets")
	case c.in == "raw" && c.typ == socket.Req:
		return bad("-in raw reads one message; REQ reads one per request: use lp or json")
	}
	m := modeOf(c.typ)
	if (c.readOnly || c.writeOnly) && m != duplex {
		return bad("-r and -w are for types that both send and receive (PAIR DEALER ROUTER XPUB XSUB)")
	}
	if c.waitPeers > 0 && (m == recvOnly || m == reply) {
		return bad("-wait-peers is for sockets that send first")
	}
	if c.waitPeers > 0 && c.typ == socket.XPub && c.writeOnly {
		return bad("an XPUB's -wait-peers counts the subscriptions it receives: not with -w")
	}
	return nil
}

// mode is what brookcat does with a socket type.
type mode int

const (
	sendOnly mode = iota // PUSH, PUB
	recvOnly             // PULL, SUB
	request              // REQ: send, then print the reply
	reply                // REP: print, then reply
	duplex               // PAIR, DEALER, ROUTER, XPUB, XSUB: both at once
)

func modeOf(t socket.Type) mode {
	switch t {
	case socket.Push, socket.Pub:
		return sendOnly
	case socket.Pull, socket.Sub:
		return recvOnly
	case socket.Req:
		return request
	case socket.Rep:
		return reply
	}
	return duplex
}

// effectiveMode applies -r and -w.
func (c *config) effectiveMode() mode {
	switch {
	case c.readOnly:
		return recvOnly
	case c.writeOnly:
		return sendOnly
	}
	return modeOf(c.typ)
}
