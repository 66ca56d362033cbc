package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/socket"
	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

func TestZAPRequestRoundTrip(t *testing.T) {
	in := &transport.AuthRequest{Domain: "global", Address: "192.0.2.1", Identity: []byte("id"), Mechanism: "PLAIN",
		Credentials: [][]byte{[]byte("user"), []byte("pass")}}
	frames := encodeZAPRequest("17", in)
	assert.Equal(t, []string{"1.0", "17", "global", "192.0.2.1", "id", "PLAIN", "user", "pass"}, strs(frames))
	id, out, err := decodeZAPRequest(frames)
	require.NoError(t, err)
	assert.Equal(t, "17", string(id))
	assert.Equal(t, in, out)
}

func strs(frames [][]byte) []string {
	s := make([]string, len(frames))
	for i, f := range frames {
		s[i] = string(f)
	}
	return s
}

func TestZAPRequestErrors(t *testing.T) {
	for name, frames := range map[string][][]byte{
		"too few":      {[]byte("1.0"), []byte("1"), nil, nil, nil},
		"version":      {[]byte("2.0"), []byte("1"), nil, nil, nil, []byte("NULL")},
		"no mechanism": {[]byte("1.0"), []byte("1"), nil, nil, nil, nil},
	} {
		id, _, err := decodeZAPRequest(frames)
		assert.ErrorIs(t, err, ErrZAP, name)
		assert.Equal(t, "1", string(id), "%s: the id is kept to answer with", name)
	}
	id, _, err := decodeZAPRequest([][]byte{[]byte("1.0")})
	assert.ErrorIs(t, err, ErrZAP)
	assert.Nil(t, id)
}

func TestZAPReplyRoundTrip(t *testing.T) {
	in := transport.AuthReply{Status: 200, Text: "OK", UserID: "alice", Metadata: map[string][]byte{"X-Role": []byte("admin"), "empty": {}}}
	frames, err := encodeZAPReply([]byte("9"), in)
	require.NoError(t, err)
	id, out, err := decodeZAPReply(frames)
	require.NoError(t, err)
	assert.Equal(t, "9", id)
	assert.Equal(t, in, out)

	// A refusal carries no user id nor metadata (RFC 27).
	frames, err = encodeZAPReply([]byte("9"), transport.AuthReply{Status: 400, Text: "no", UserID: "alice", Metadata: in.Metadata})
	require.NoError(t, err)
	assert.Equal(t, []string{"1.0", "9", "400", "no", "", ""}, strs(frames))

	_, err = encodeZAPReply(nil, transport.AuthReply{Status: 200, Metadata: map[string][]byte{"": nil}})
	assert.ErrorIs(t, err, ErrZAP)
}

func TestZAPReplyErrors(t *testing.T) {
	good := func() [][]byte { return [][]byte{[]byte("1.0"), []byte("1"), []byte("200"), nil, nil, nil} }
	for name, mutate := range map[string]func([][]byte) [][]byte{
		"frames":   func(f [][]byte) [][]byte { return f[:5] },
		"version":  func(f [][]byte) [][]byte { f[0] = []byte("1.1"); return f },
		"status":   func(f [][]byte) [][]byte { f[2] = []byte("201"); return f },
		"status 6": func(f [][]byte) [][]byte { f[2] = []byte("600"); return f },
		"metadata": func(f [][]byte) [][]byte { f[5] = []byte{5, 'a'}; return f },
		"value":    func(f [][]byte) [][]byte { f[5] = []byte{1, 'a', 0, 0, 0, 9, 'x'}; return f },
	} {
		_, _, err := decodeZAPReply(mutate(good()))
		assert.ErrorIs(t, err, ErrZAP, name)
	}
}

func FuzzZAPRequest(f *testing.F) {
	f.Add([]byte("1.0\x001\x00global\x00192.0.2.1\x00\x00CURVE\x00" + string(bytes.Repeat([]byte{7}, 32))))
	f.Add([]byte("1.0\x00id\x00\x00::1\x00me\x00PLAIN\x00user\x00pass"))
	f.Add([]byte("2.0\x00x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		_, req, err := decodeZAPRequest(frames)
		if err != nil {
			require.ErrorIs(t, err, ErrZAP)
			return
		}
		again := encodeZAPRequest(string(frames[1]), req)
		require.Equal(t, strs(frames), strs(again))
	})
}

func FuzzZAPReply(f *testing.F) {
	f.Add([]byte("1.0\x001\x00200\x00OK\x00alice\x00\x06X-Role\x00\x00\x00\x05admin"))
	f.Add([]byte("1.0\x001\x00400\x00no\x00\x00"))
	f.Add([]byte("1.0\x001\x00999\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.SplitN(data, []byte{0}, 6)
		_, r, err := decodeZAPReply(frames)
		if err != nil {
			require.ErrorIs(t, err, ErrZAP)
			return
		}
		require.Contains(t, []int{200, 300, 400, 500}, r.Status)
		meta, err := encodeMetadata(r.Metadata)
		require.NoError(t, err)
		back, err := decodeMetadata(meta)
		require.NoError(t, err)
		require.Equal(t, r.Metadata, back)
	})
}

// zapPair runs a handler for a in a namespace of its own and returns a
// client of it.
func zapPair(t *testing.T, a transport.Authenticator) (*ZAPClient, *ZAPHandler, *inproc.Namespace) {
	t.Helper()
	ns := inproc.NewNamespace()
	h, err := ServeZAP(a, ns, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	z, err := NewZAPClient(ns)
	require.NoError(t, err)
	t.Cleanup(func() { _ = z.Close() })
	return z, h, ns
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestZAPClientAndHandler(t *testing.T) {
	a := New()
	a.SetPasswords(map[string]string{"admin": "secret"})
	z, _, _ := zapPair(t, a)
	ctx := ctxFor(t)

	r, err := z.Authenticate(ctx, req("PLAIN", "192.0.2.1", []byte("admin"), []byte("secret")))
	require.NoError(t, err)
	assert.Equal(t, transport.AuthReply{Status: 200, UserID: "admin"}, r)
	r, err = z.Authenticate(ctx, req("PLAIN", "192.0.2.1", []byte("admin"), []byte("wrong")))
	require.NoError(t, err)
	assert.Equal(t, 400, r.Status)
	assert.Equal(t, "invalid user name or password", r.Text)

	// Many handshakes wait for their verdicts at once.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pass := "secret"
			if i%2 == 1 {
				pass = "nope"
			}
			r, err := z.Authenticate(ctx, req("PLAIN", "192.0.2.1", []byte("admin"), []byte(pass)))
			switch {
			case err != nil:
				errs <- err
			case (i%2 == 0) != (r.Status == 200):
				errs <- fmt.Errorf("request %d: status %d", i, r.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestZAPHandlerAnswersErrorsWith500(t *testing.T) {
	z, _, _ := zapPair(t, transport.AuthenticatorFunc(func(context.Context, *transport.AuthRequest) (transport.AuthReply, error) {
		return transport.AuthReply{}, errors.New("backend down")
	}))
	r, err := z.Authenticate(ctxFor(t), req("NULL", "::1"))
	require.NoError(t, err)
	assert.Equal(t, transport.AuthReply{Status: 500, Text: "backend down"}, r)
}

func TestZAPClientWithoutHandler(t *testing.T) {
	z, err := NewZAPClient(inproc.NewNamespace())
	require.NoError(t, err)
	defer z.Close()
	_, err = z.Authenticate(ctxFor(t), req("NULL", "::1"))
	assert.ErrorIs(t, err, ErrZAP)
}

func TestZAPClientWaitsForItsContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	z, _, _ := zapPair(t, transport.AuthenticatorFunc(func(ctx context.Context, _ *transport.AuthRequest) (transport.AuthReply, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return transport.AuthReply{Status: 200}, nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := z.Authenticate(ctx, req("NULL", "::1"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestOneZAPHandlerPerNamespace(t *testing.T) {
	_, _, ns := zapPair(t, New())
	_, err := ServeZAP(New(), ns, nil)
	assert.ErrorIs(t, err, transport.ErrAddrInUse)
}

// A request without an envelope or a request id is dropped; one with an
// id but malformed gets 400.
func TestZAPHandlerMalformedRequests(t *testing.T) {
	ns := inproc.NewNamespace()
	h, err := ServeZAP(New(), ns, nil)
	require.NoError(t, err)
	defer h.Close()
	d, err := socket.New(socket.Dealer, socket.WithTransport(inproc.New(ns)), socket.WithLinger(0))
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Connect(ZAPEndpoint))
	ctx := ctxFor(t)
	require.NoError(t, d.Send(ctx, socket.NewMsg([]byte("1.0"), []byte("no-delimiter"))))
	require.NoError(t, d.Send(ctx, socket.NewMsg([]byte{}, []byte("1.0"))))
	require.NoError(t, d.Send(ctx, socket.NewMsg([]byte{}, []byte("9.9"), []byte("42"), nil, nil, nil, []byte("NULL"))))
	m, err := d.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"", "1.0", "42", "400"}, strs(m.Frames[:4]), "only the request with an id is answered")
}
