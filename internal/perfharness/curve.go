package main

import (
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

// Benchmark-only CURVE key pairs (Z85), the same as in c/zmqperf.c so
// brook and libzmq sides can be mixed. They protect nothing: never use
// them outside this harness.
const (
	benchServerPublic = "AUW)9wt-7(kPxX@?Zs.wjkGj&hGa]}:ojHt]uYY#"
	benchServerSecret = "5WMAg=]g0}t{}g]H0sd7UN?GrQ=+tPM7c37uK*GO"
	benchClientPublic = "n55c^yHI.q>Gud#w4qH*4B7w[p[@-Wb6Ufu^JAD%"
	benchClientSecret = "q%]4klq*Y@ql@Od8*YunK)jnsLmB=TB#P5bFm82y"
)

// curveOption returns the CURVE option of a side: a server for the local
// side (which binds), a client of that server for the remote side.
func curveOption(server bool) (socket.Option, error) {
	pair := func(pub, sec string) (curve.KeyPair, error) {
		p, err := curve.ParseKey(pub)
		if err != nil {
			return curve.KeyPair{}, err
		}
		s, err := curve.ParseKey(sec)
		return curve.KeyPair{Public: p, Secret: s}, err
	}
	srv, err := pair(benchServerPublic, benchServerSecret)
	if err != nil {
		return nil, err
	}
	if server {
		return socket.WithCurveServer(srv, nil), nil
	}
	cli, err := pair(benchClientPublic, benchClientSecret)
	if err != nil {
		return nil, err
	}
	return socket.WithCurveClient(srv.Public, cli), nil
}
