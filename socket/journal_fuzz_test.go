package socket

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket/internal/jwire"
	"github.com/brookmq/brook/transport"
)

// FuzzJournalCommands feeds arbitrary journal profile commands, in any
// order, to the sockets that take them: a journaled PUSH and PUB, a PULL
// and a SUB. Whatever arrives, the socket either acts on it or refuses
// it with an error (which ends only that connection); it never panics,
// and the socket still closes cleanly (no goroutine left waiting).
func FuzzJournalCommands(f *testing.F) {
	names := []string{jwire.CmdData, jwire.CmdAck, jwire.CmdDone, jwire.CmdNack, jwire.CmdRevoke,
		jwire.CmdSub, jwire.CmdStart, jwire.CmdStream, jwire.CmdSkip, "JUNKNOWN"}
	f.Add([]byte{0, 1, 2}, jwire.AppendData(nil, jwire.Data{Offset: 1, Count: 1}))
	f.Add([]byte{1, 2}, jwire.AppendAck(nil, 1, []jwire.Range{{Lo: 0, Hi: 3}}))
	f.Add([]byte{5, 6, 7, 8}, jwire.AppendSub(nil, jwire.Sub{Mode: jwire.StartOldest}))
	f.Add([]byte{6, 7}, jwire.AppendStart(nil, jwire.StartInfo{First: 2}))
	f.Add([]byte{7}, jwire.AppendStream(nil, jwire.Stream{Offset: 5, Skip: 2}))
	f.Fuzz(func(t *testing.T, order []byte, data []byte) {
		dir := t.TempDir()
		log, err := durable.Open(filepath.Join(dir, "j"))
		require.NoError(t, err)
		defer log.Close()
		for range 3 {
			_, err := log.AppendMsg(context.Background(), recordFrames(NewMsg([]byte("m")), 1, time.Time{}))
			require.NoError(t, err)
		}
		for _, mk := range []func() (*Socket, error){
			func() (*Socket, error) { return New(Push, WithJournal(log), WithLinger(0)) },
			func() (*Socket, error) { return New(Pub, WithJournal(log), WithLinger(0)) },
			func() (*Socket, error) { return New(Pull, WithLinger(0)) },
			func() (*Socket, error) { return New(Sub, WithLinger(0)) },
		} {
			s, err := mk()
			require.NoError(t, err)
			p := s.newPipeLocked("fuzz", false)
			hello := jwire.Hello{Flags: jwire.FlagJournal | jwire.FlagPublisher}
			if s.typ == Pull {
				hello.Flags = jwire.FlagJournal
			}
			if s.typ == Push || s.typ == Pub {
				hello = jwire.Hello{}
			}
			p.setPeer(transport.PeerInfo{SocketType: "X"}, "fuzz")
			cs := &connState{hello: hello}
			s.journalConnected(p, cs)
			for i, k := range order {
				name := names[int(k)%len(names)]
				d := data
				if i%2 == 1 && len(d) > 0 {
					d = d[1:]
				}
				if err := s.journalCommand(p, cs, name, d); err != nil {
					break // the connection would end here
				}
			}
			s.journalDisconnected(p)
			require.NoError(t, s.Close())
		}
	})
}
