package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/brookmq/brook/socket"
)

// serve answers requests on the ROUTER until it is closed.
//
// From an instance's DEALER a request is [routing id, "", job id, payload]
// and the reply [routing id, "", job id, digest, server name]. From a REQ
// peer (brookcat, pyzmq) it is [routing id, "", payload] and the reply
// one frame: the digest in hex and the server's name.
func serve(router *socket.Socket, self int, name string, st *counters) error {
	ctx := context.Background()
	for {
		m, err := router.Recv(ctx)
		if err != nil {
			return err
		}
		f := m.Frames
		var reply socket.Msg
		switch {
		case len(f) == 4 && len(f[1]) == 0 && len(f[2]) == 8:
			digest := sha256.Sum256(f[3])
			reply = socket.NewMsg(f[0], nil, f[2], digest[:], []byte(name))
			st.served.Add(1)
			if origin(binary.BigEndian.Uint64(f[2])) != self {
				st.servedOthers.Add(1)
			}
		case len(f) == 3 && len(f[1]) == 0:
			digest := sha256.Sum256(f[2])
			reply = socket.NewMsg(f[0], nil, fmt.Appendf(nil, "%s %s", hex.EncodeToString(digest[:]), name))
			st.served.Add(1)
			st.servedOthers.Add(1)
		default:
			st.malformed.Add(1)
			continue
		}
		// A ROUTER drops a reply to a peer that has gone (counted in its
		// Stats); that peer's instance sends the job again elsewhere.
		if err := router.Send(ctx, reply); err != nil {
			return err
		}
	}
}

// Job ids: the instance that made the job in the top 16 bits, then a
// sequence number.
func jobID(self int, seq uint64) uint64 { return uint64(self)<<48 | seq&(1<<48-1) }
func origin(id uint64) int              { return int(id >> 48) }
