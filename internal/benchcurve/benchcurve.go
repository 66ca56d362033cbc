// Package benchcurve holds the CURVE key pairs brook's benchmarks share
// (internal/perfharness, its c/zmqperf.c, and cmd/mqbench --curve), so
// brook and libzmq sides of a measurement can be mixed. They are public
// and protect nothing: never use them outside a benchmark.
package benchcurve

import (
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

// The benchmark key pairs, in Z85.
const (
	ServerPublic = "AUW)9wt-7(kPxX@?Zs.wjkGj&hGa]}:ojHt]uYY#"
	ServerSecret = "5WMAg=]g0}t{}g]H0sd7UN?GrQ=+tPM7c37uK*GO"
	ClientPublic = "n55c^yHI.q>Gud#w4qH*4B7w[p[@-Wb6Ufu^JAD%"
	ClientSecret = "q%]4klq*Y@ql@Od8*YunK)jnsLmB=TB#P5bFm82y"
)

// Option returns the brook socket option of a CURVE server with the
// benchmark server keys (server true), or of a client of that server.
func Option(server bool) (socket.Option, error) {
	srv, err := pair(ServerPublic, ServerSecret)
	if err != nil {
		return nil, err
	}
	if server {
		return socket.WithCurveServer(srv, nil), nil
	}
	cli, err := pair(ClientPublic, ClientSecret)
	if err != nil {
		return nil, err
	}
	return socket.WithCurveClient(srv.Public, cli), nil
}

func pair(pub, sec string) (curve.KeyPair, error) {
	p, err := curve.ParseKey(pub)
	if err != nil {
		return curve.KeyPair{}, err
	}
	s, err := curve.ParseKey(sec)
	return curve.KeyPair{Public: p, Secret: s}, err
}
