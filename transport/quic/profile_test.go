package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/transport"
)

func TestWrongCertificateRefused(t *testing.T) {
	server, _ := certs(t)
	_, otherClient := certs(t) // trusts a different certificate
	st := New(server)
	ct := New(otherClient)
	t.Cleanup(func() { _ = ct.Close(); _ = st.Close() })
	l := listen(t, st)
	_, err := ct.Dial(testCtx(t), ep(t, l.Endpoint()))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTLS)
	var certErr *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &certErr)
	assert.Contains(t, err.Error(), "certificate")
	assert.NotErrorIs(t, err, transport.ErrClosed)
}

func TestWrongServerNameRefused(t *testing.T) {
	server, client, err := SelfSigned("brook.test")
	require.NoError(t, err)
	st := New(server)
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	for name, tc := range map[string]struct {
		opts []Option
		ok   bool
	}{
		"endpoint IP not in the certificate": {nil, false},
		"override names the certificate":     {[]Option{WithServerName("brook.test")}, true},
		"override names another host":        {[]Option{WithServerName("other.test")}, false},
	} {
		t.Run(name, func(t *testing.T) {
			ct := New(client, tc.opts...)
			t.Cleanup(func() { _ = ct.Close() })
			c, err := ct.Dial(testCtx(t), ep(t, l.Endpoint()))
			if tc.ok {
				require.NoError(t, err)
				_ = c.Close()
				return
			}
			assert.ErrorIs(t, err, ErrTLS)
		})
	}
}

func TestInsecureConfigsRefused(t *testing.T) {
	server, client := certs(t)
	insecure := client.Clone()
	insecure.InsecureSkipVerify = true
	_, err := New(insecure).Dial(testCtx(t), ep(t, "quic://127.0.0.1:1"))
	assert.ErrorIs(t, err, ErrInsecureTLS)
	_, err = New(nil).Dial(testCtx(t), ep(t, "quic://127.0.0.1:1"))
	assert.ErrorIs(t, err, ErrNoTLSConfig)
	_, err = New(client).Listen(ep(t, "quic://127.0.0.1:0"))
	assert.Error(t, err, "a listener without a certificate")
	_, err = New(server, WithLiveness(time.Second, time.Millisecond)).Listen(ep(t, "quic://127.0.0.1:0"))
	assert.ErrorIs(t, err, ErrConfig)
}

// TestWrongALPNRefused: a connector offering another protocol is refused
// by a brook listener, and a brook connector refuses a listener that does
// not speak omq-zmtp/1.
func TestWrongALPNRefused(t *testing.T) {
	server, client := certs(t)
	st := New(server)
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	_, err := rawDial(t, udpAddr(l.Endpoint()), client, "h3")
	require.Error(t, err)
	var te *quic.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, quic.TransportErrorCode(cryptoErrorBase+tlsAlertNoApplicationProtocol), te.ErrorCode)

	other := server.Clone()
	other.NextProtos = []string{"h3"}
	ql, err := quic.ListenAddr("127.0.0.1:0", other, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ql.Close() })
	ct := New(client)
	t.Cleanup(func() { _ = ct.Close() })
	_, err = ct.Dial(testCtx(t), ep(t, "quic://"+ql.Addr().String()))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrALPN)
	assert.Contains(t, err.Error(), ALPN)
}

func TestBadLivenessPreface(t *testing.T) {
	for name, pre := range map[string][]byte{
		"wrong magic":   {'O', 'M', 'Q', 'X', 1, 0, 0, 0},
		"wrong version": {'O', 'M', 'Q', 'L', 2, 0, 0, 0},
		"nonzero pad":   {'O', 'M', 'Q', 'L', 1, 0, 0, 1},
	} {
		t.Run(name, func(t *testing.T) {
			server, client := certs(t)
			st := New(server)
			t.Cleanup(func() { _ = st.Close() })
			l := listen(t, st)
			accepted := acceptOne(t, l)
			p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
			require.NoError(t, err)
			p.openStreams()
			p.sendPreface(pre)
			assert.Equal(t, CodeInvalidLiveness, p.closeCode())
			r := <-accepted
			require.Error(t, r.err)
			assert.ErrorIs(t, r.err, transport.ErrProtocol)
		})
	}
}

// TestSetupTimeout: a connector that completes TLS and then does nothing is
// dropped with code 1 when the setup deadline passes.
func TestSetupTimeout(t *testing.T) {
	server, client := certs(t)
	st := New(server, WithSetupTimeout(300*time.Millisecond))
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	accepted := acceptOne(t, l)
	p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
	require.NoError(t, err)
	assert.Equal(t, CodeInvalidSetup, p.closeCode())
	r := <-accepted
	assert.ErrorIs(t, r.err, transport.ErrHandshakeTimeout)
}

func TestThirdStreamDropped(t *testing.T) {
	for _, uni := range []bool{false, true} {
		name := "bidirectional"
		if uni {
			name = "unidirectional"
		}
		t.Run(name, func(t *testing.T) {
			server, client := certs(t)
			st := New(server)
			t.Cleanup(func() { _ = st.Close() })
			l := listen(t, st)
			accepted := acceptOne(t, l)
			p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
			require.NoError(t, err)
			p.setup()
			r := <-accepted
			require.NoError(t, r.err)
			if uni {
				s, err := p.qc.OpenUniStream()
				require.NoError(t, err)
				_, err = s.Write([]byte{1})
				require.NoError(t, err)
			} else {
				s, err := p.qc.OpenStream()
				require.NoError(t, err)
				_, err = s.Write([]byte{1})
				require.NoError(t, err)
			}
			assert.Equal(t, CodeUnexpectedStream, p.closeCode())
			_, err = r.c.ReadMsg()
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, CodeUnexpectedStream, ce.Code)
			assert.False(t, ce.Remote)
			assert.ErrorIs(t, err, transport.ErrProtocol)
		})
	}
}

// TestListenerOpensStreamDropped: the connector drops a listener that
// opens a stream.
func TestListenerOpensStreamDropped(t *testing.T) {
	server, client := certs(t)
	ql, err := quic.ListenAddr("127.0.0.1:0", server, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ql.Close() })
	ct := New(client)
	t.Cleanup(func() { _ = ct.Close() })
	done := make(chan CloseCode, 1)
	go func() {
		qc, err := ql.Accept(testCtx(t))
		if err != nil {
			done <- 99
			return
		}
		s, err := qc.OpenStream()
		if err == nil {
			_, _ = s.Write([]byte{1})
		}
		<-qc.Context().Done()
		ce, _ := connError(context.Cause(qc.Context())).(*CloseError)
		if ce == nil {
			done <- 98
			return
		}
		done <- ce.Code
	}()
	c, err := ct.Dial(testCtx(t), ep(t, "quic://"+ql.Addr().String()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	assert.Equal(t, CodeUnexpectedStream, <-done)
}

func TestLivenessTimeout(t *testing.T) {
	server, client := certs(t)
	st := New(server, WithLiveness(50*time.Millisecond, 300*time.Millisecond))
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	accepted := acceptOne(t, l)
	p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
	require.NoError(t, err)
	p.setup() // and then never a liveness record
	r := <-accepted
	require.NoError(t, r.err)
	assert.Equal(t, CodeLivenessTimeout, p.closeCode())
	_, err = r.c.ReadMsg()
	assert.ErrorIs(t, err, transport.ErrPeerTimeout)
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CodeLivenessTimeout, ce.Code)
}

func TestUnknownLivenessRecord(t *testing.T) {
	server, client := certs(t)
	st := New(server)
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	accepted := acceptOne(t, l)
	p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
	require.NoError(t, err)
	p.setup()
	require.NoError(t, (<-accepted).err)
	_, err = p.live.Write(record{kind: 0x03, nonce: 1}.append(nil))
	require.NoError(t, err)
	assert.Equal(t, CodeInvalidLiveness, p.closeCode())
}

// TestLivenessAnswered: a raw peer's PING is answered with a PONG echoing
// its nonce.
func TestLivenessAnswered(t *testing.T) {
	server, client := certs(t)
	st := New(server, WithLiveness(time.Hour, time.Hour)) // the listener sends no PINGs of its own
	t.Cleanup(func() { _ = st.Close() })
	l := listen(t, st)
	accepted := acceptOne(t, l)
	p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
	require.NoError(t, err)
	p.setup()
	require.NoError(t, (<-accepted).err)
	_, err = p.live.Write(record{kind: recordPing, nonce: 0xDEADBEEF01}.append(nil))
	require.NoError(t, err)
	buf := make([]byte, recordLen)
	_, err = ioReadFull(p.live, buf)
	require.NoError(t, err)
	r, err := parseRecord(buf)
	require.NoError(t, err)
	assert.Equal(t, record{kind: recordPong, nonce: 0xDEADBEEF01}, r)
}

// TestPartialMessageNeverDelivered: a connection that dies in the middle of
// a multipart message delivers none of it.
func TestPartialMessageNeverDelivered(t *testing.T) {
	for name, wire := range map[string][]byte{
		"between frames":  {0x01, 5, 'h', 'e', 'l', 'l', 'o'},
		"inside a frame":  append([]byte{0x01, 5, 'h', 'e', 'l', 'l', 'o', 0x00, 100}, make([]byte, 10)...),
		"inside a header": {0x01, 5, 'h', 'e', 'l', 'l', 'o', 0x02, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			server, client := certs(t)
			st := New(server)
			t.Cleanup(func() { _ = st.Close() })
			l := listen(t, st)
			accepted := acceptOne(t, l)
			p, err := rawDial(t, udpAddr(l.Endpoint()), client, "")
			require.NoError(t, err)
			p.setup()
			r := <-accepted
			require.NoError(t, r.err)
			// One whole message first, then the partial one.
			_, err = p.data.Write(append([]byte{0x00, 3, 'o', 'n', 'e'}, wire...))
			require.NoError(t, err)
			m, err := r.c.ReadMsg()
			require.NoError(t, err)
			require.Equal(t, [][]byte{[]byte("one")}, m.Frames)
			require.NoError(t, p.qc.CloseWithError(quic.ApplicationErrorCode(CodeAbort), "killed"))
			m, err = r.c.ReadMsg()
			require.Error(t, err)
			assert.Empty(t, m.Frames)
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, CodeAbort, ce.Code)
			assert.True(t, ce.Remote)
			assert.False(t, errors.Is(err, transport.ErrClosed))
		})
	}
}
