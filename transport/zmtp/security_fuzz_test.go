package zmtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

// The fuzz targets of the security mechanisms: every handshake command
// decoder (PLAIN HELLO; CURVE HELLO, WELCOME, INITIATE with its box, and
// READY) and the MESSAGE decoding of a CURVE connection. Keys are fixed
// so the seed corpora in testdata/fuzz hold commands that really open.

// fixedKeys returns a key pair from a fixed secret.
func fixedKeys(seed byte) testKeyPair {
	var k testKeyPair
	for i := range k.secret {
		k.secret[i] = seed + byte(i)
	}
	pub, err := publicKeyOf(k.secret)
	if err != nil {
		panic(err)
	}
	k.public = pub
	return k
}

var (
	fuzzServer          = fixedKeys(1)
	fuzzClient          = fixedKeys(101)
	fuzzClientTransient = fixedKeys(201)
)

// fuzzCurveClient is a CURVE client with a fixed transient key, so a
// WELCOME recorded once opens for it every time.
func fuzzCurveClient(t testing.TB) (*curveClient, []byte) {
	t.Helper()
	c, err := newCurveClient(CurveClient{ServerKey: fuzzServer.public, SecretKey: fuzzClient.secret})
	require.NoError(t, err)
	_, err = c.Start(appendMetadata(nil, []property{{propSocketType, []byte("PUSH")}}))
	require.NoError(t, err)
	c.tkey, err = newDHKey(fuzzClientTransient.secret)
	require.NoError(t, err)
	c.tpub = c.tkey.public()
	c.helloKey, err = c.tkey.boxKey(&c.keys.ServerKey)
	require.NoError(t, err)
	nonce := shortNonceBytes(1)
	data := []byte{1, 0}
	data = append(data, make([]byte, curvePadding)...)
	data = append(data, c.tpub[:]...)
	data = append(data, nonce...)
	data = sealBox(data, make([]byte, 64), nonce24(prefixHello, nonce), &c.helloKey)
	return c, data
}

// commandData returns the data of a command frame built by a mechanism.
func commandData(t testing.TB, frame []byte) []byte {
	t.Helper()
	_, _, n := frameHeader(frame)
	_, data, err := parseCommand(frame[n:])
	require.NoError(t, err)
	return data
}

func fuzzCurveServer() *curveServer {
	s, err := NewCurveServer(fuzzServer.secret, answer(transport.AuthReply{Status: 200, UserID: "u"}), "")
	if err != nil {
		panic(err)
	}
	return &curveServer{srv: s, env: &authEnv{ctx: context.Background()}}
}

// requireHandshakeError checks a decoder's failure is one the engine
// reports cleanly.
func requireHandshakeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, transport.ErrProtocol) && !errors.Is(err, transport.ErrAuthFailed) {
		t.Fatalf("unexpected error kind: %v", err)
	}
}

func FuzzPlainHello(f *testing.F) {
	f.Add([]byte{5, 'a', 'd', 'm', 'i', 'n', 6, 's', '3', 'c', 'r', 'e', 't'})
	f.Add([]byte{0, 0})
	f.Add([]byte{255})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &plainServer{cfg: PlainServer{Authenticator: answer(transport.AuthReply{Status: 200})}, env: &authEnv{ctx: context.Background()}}
		out, _, _, err := s.Step(cmdHello, data)
		if err != nil {
			requireHandshakeError(t, err)
			return
		}
		require.Equal(t, appendCommand(nil, cmdWelcome), out)
		user, pass, err := parsePlainHello(data)
		require.NoError(t, err)
		again := append(append([]byte{byte(len(user))}, user...), append([]byte{byte(len(pass))}, pass...)...)
		require.Equal(t, data, again, "what parses is exactly user and password")
	})
}

func FuzzCurveHello(f *testing.F) {
	_, hello := fuzzCurveClient(f)
	f.Add(hello)
	f.Add(make([]byte, curveHelloData))
	f.Add(hello[:100])
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzCurveServer()
		out, _, done, err := s.Step(cmdHello, data)
		if err != nil {
			requireHandshakeError(t, err)
			require.Equal(t, 0, s.step)
			return
		}
		require.False(t, done)
		require.Len(t, commandData(t, out), curveWelcomeData)
	})
}

// initiateFor runs a client through WELCOME from a fresh server and
// returns both, and the INITIATE data the client would send.
func initiateFor(t testing.TB) (*curveClient, *curveServer, []byte) {
	t.Helper()
	c, hello := fuzzCurveClient(t)
	s := fuzzCurveServer()
	welcome, _, _, err := s.Step(cmdHello, hello)
	require.NoError(t, err)
	initiate, _, _, err := c.Step(cmdWelcome, commandData(t, welcome))
	require.NoError(t, err)
	return c, s, commandData(t, initiate)
}

func FuzzCurveInitiate(f *testing.F) {
	_, _, initiate := initiateFor(f)
	f.Add(initiate)
	f.Add(initiate[:curveInitiateMin])
	f.Add(make([]byte, curveInitiateMin+10))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, s, _ := initiateFor(t)
		out, meta, done, err := s.Step(cmdInitiate, data)
		if err != nil {
			requireHandshakeError(t, err)
			return
		}
		// Only a genuine INITIATE opens: the cookie of this server's
		// WELCOME (cookies are one-time and this one is fresh).
		require.True(t, done)
		require.NotEmpty(t, out)
		_, err = parseMetadata(meta)
		require.NoError(t, err)
	})
}

// FuzzCurveInitiateBox fuzzes what the INITIATE box holds (the client's
// key, the vouch, the metadata): the harness boxes it properly, so the
// server's decoding of the contents is what is exercised.
func FuzzCurveInitiateBox(f *testing.F) {
	c, _, initiate := initiateFor(f)
	plain, err := openBox(initiate[cookieSize+shortNonce:], nonce24(prefixInitiate, initiate[cookieSize:cookieSize+shortNonce]), &c.key)
	require.NoError(f, err)
	f.Add(plain)
	f.Add(plain[:keySize+vouchSize])
	f.Add(append(bytes.Clone(plain[:keySize+vouchSize]), 3, 'a'))
	f.Add(make([]byte, 128))
	f.Fuzz(func(t *testing.T, content []byte) {
		c, s, initiate := initiateFor(t)
		nonce := initiate[cookieSize : cookieSize+shortNonce]
		data := append(bytes.Clone(initiate[:cookieSize+shortNonce]), sealBox(nil, content, nonce24(prefixInitiate, nonce), &c.key)...)
		_, meta, done, err := s.Step(cmdInitiate, data)
		if err != nil {
			requireHandshakeError(t, err)
			return
		}
		require.True(t, done)
		require.Equal(t, content[keySize+vouchSize:], meta)
	})
}

// welcomeFor returns a client after HELLO and the WELCOME a server
// answered it with.
func welcomeFor(t testing.TB) (*curveClient, []byte) {
	t.Helper()
	c, hello := fuzzCurveClient(t)
	welcome, _, _, err := fuzzCurveServer().Step(cmdHello, hello)
	require.NoError(t, err)
	return c, commandData(t, welcome)
}

func FuzzCurveWelcome(f *testing.F) {
	_, welcome := welcomeFor(f)
	f.Add(welcome)
	f.Add(make([]byte, curveWelcomeData))
	f.Add(welcome[:50])
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := fuzzCurveClient(t)
		out, _, _, err := c.Step(cmdWelcome, data)
		if err != nil {
			require.ErrorIs(t, err, transport.ErrProtocol)
			return
		}
		require.GreaterOrEqual(t, len(commandData(t, out)), curveInitiateMin)
	})
}

func FuzzCurveReady(f *testing.F) {
	c, s, initiate := initiateFor(f)
	ready, _, _, err := s.Step(cmdInitiate, initiate)
	require.NoError(f, err)
	f.Add(commandData(f, ready))
	f.Add(make([]byte, curveReadyMin))
	f.Add([]byte{0, 0, 0})
	_ = c
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, _ := initiateFor(t)
		_, meta, done, err := c.Step(cmdReady, data)
		if err != nil {
			require.ErrorIs(t, err, transport.ErrProtocol)
			return
		}
		require.True(t, done)
		require.Equal(t, len(data)-curveReadyMin, len(meta))
	})
}

// memStream is a stream that reads a fixed input and discards writes.
type memStream struct{ r *bytes.Reader }

func (m memStream) Read(p []byte) (int, error) { return m.r.Read(p) }
func (memStream) Write(p []byte) (int, error)  { return len(p), nil }
func (memStream) Close() error                 { return nil }

// fuzzMessageKey keys the MESSAGE fuzz connection.
var fuzzMessageKey = [keySize]byte{7, 7, 7}

// boxedConn returns a handshaken Conn that reads input as a CURVE
// connection from a client using fuzzMessageKey.
func boxedConn(input []byte, readBuf int) *Conn {
	c := NewConn(memStream{bytes.NewReader(input)}, "fuzz", "peer", Options{ReadBufferSize: readBuf})
	c.maxMsg = 64 << 10
	c.initBuffers()
	c.unseal = &unsealer{box: newMessageBox(&fuzzMessageKey, prefixMsgC, 2)}
	c.ready.Store(true)
	return c
}

// fuzzFrames decodes a fuzz input into frames for the boxed mode: each
// record is flags, length and body; a flags byte with bit 7 set also
// moves the nonce back by its low bits (to exercise replays), one with
// bit 6 set repeats the body to 64 times its length (frames beyond the
// slab and the 4 KiB read buffer).
func fuzzFrames(rec []byte, box *messageBox) []byte {
	var out bytes.Buffer
	s := &sealer{box: box}
	for len(rec) >= 2 {
		flags, n := rec[0], int(rec[1])
		rec = rec[2:]
		n = min(n, len(rec))
		body := rec[:n]
		rec = rec[n:]
		if flags&0x40 != 0 {
			body = bytes.Repeat(body, 64)
		}
		if flags&0x80 != 0 {
			box.nonce -= uint64(flags & 0x07)
		}
		_ = s.write(&out, rawFrame(flags&(flagMore|flagCommand), body), nil)
	}
	return out.Bytes()
}

// FuzzCurveMessage feeds a CURVE connection arbitrary traffic: raw bytes
// (mode bit 0 clear), or frames boxed with the right key (mode bit 0
// set), whose contents, flags and nonces are the fuzzer's; with mode bit
// 1 set the stream delivers it in reads of up to 1+37*(mode>>2) bytes.
// Reading must end in a clean error, never a panic, and messages must
// come whole.
func FuzzCurveMessage(f *testing.F) {
	box := newMessageBox(&fuzzMessageKey, prefixMsgC, 2)
	f.Add(append([]byte{1}, 0, 5, 'h', 'e', 'l', 'l', 'o', 1, 1, 'a', 0, 0))
	f.Add(append([]byte{1}, 4, 7, 4, 'P', 'I', 'N', 'G', 0, 0))
	f.Add(append([]byte{1}, 4, 10, 9, 'S', 'U', 'B', 'S', 'C', 'R', 'I', 'B', 'E'))
	f.Add(append([]byte{1}, 0, 1, 'x', 0x81, 1, 'y'))
	f.Add(append([]byte{0}, boxed(f, box, rawFrame(0, []byte("raw")))...))
	f.Add([]byte{0, 4, 40, 7, 'M', 'E', 'S', 'S', 'A', 'G', 'E'})
	// Boxed frames of 2.5 KiB and 6.25 KiB, read in pieces of up to 741 B.
	f.Add(append(append([]byte{3 | 20<<2, 0x41, 40}, bytes.Repeat([]byte{'m'}, 40)...), append([]byte{0x40, 100}, bytes.Repeat([]byte{'b'}, 100)...)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		input := data[1:]
		if data[0]&1 != 0 {
			input = fuzzFrames(input, newMessageBox(&fuzzMessageKey, prefixMsgC, 2))
		}
		c := boxedConn(input, 4<<10)
		if data[0]&2 != 0 {
			c = chunkedBoxedConn(input, 4<<10, 1+37*int(data[0]>>2), uint64(len(data)))
		}
		defer c.Close()
		for {
			m, err := c.ReadMsg()
			if err != nil {
				var pe *transport.PeerError
				if !errors.Is(err, transport.ErrProtocol) && !errors.Is(err, transport.ErrTooLarge) &&
					!errors.Is(err, io.EOF) && !errors.As(err, &pe) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			require.NotEmpty(t, m.Frames)
		}
	})
}

// The boxed mode of FuzzCurveMessage round-trips real traffic.
func TestBoxedConnReadsWhatWasBoxed(t *testing.T) {
	big := bytes.Repeat([]byte("z"), 10<<10) // larger than the 4 KiB read buffer
	input := boxed(t, newMessageBox(&fuzzMessageKey, prefixMsgC, 2),
		rawFrame(flagMore, []byte("a")), rawFrame(0, big), appendCommand(nil, cmdSubscribe, []byte("t")))
	c := boxedConn(input, 4<<10)
	defer c.Close()
	m, err := c.ReadMsg()
	require.NoError(t, err)
	require.Len(t, m.Frames, 2)
	require.Equal(t, "a", string(m.Frames[0]))
	require.Equal(t, big, m.Frames[1])
	m, err = c.ReadMsg()
	require.NoError(t, err)
	require.Equal(t, "\x01t", string(m.Frames[0]))
	_, err = c.ReadMsg()
	require.ErrorIs(t, err, io.EOF)
}
