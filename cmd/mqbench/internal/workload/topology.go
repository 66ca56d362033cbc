package workload

import (
	"context"
	"fmt"

	"github.com/brookmq/brook/cmd/mqbench/internal/config"
	"github.com/brookmq/brook/cmd/mqbench/internal/impl"
)

// end is one participant: a driver (it sends the data and, in round
// trips, measures) or a sink (it receives the data and, in round trips,
// echoes it). data carries the pattern's messages; ret, when set, is the
// return path (one-way latency echoes, pubsub readiness and end acks).
type end struct {
	index int
	data  impl.Socket
	ret   impl.Socket
}

// topology is every socket of this process's part of the workload.
type topology struct {
	drivers []*end
	sinks   []*end
	all     []impl.Socket
}

// kinds returns the driver's and the sink's socket kinds.
func kinds(p config.Pattern) (driver, sink impl.Kind) {
	switch p {
	case config.PubSub:
		return impl.Pub, impl.Sub
	case config.ReqRep:
		return impl.Req, impl.Rep
	case config.DealerRouter:
		return impl.Dealer, impl.Router
	case config.Pair:
		return impl.Pair, impl.Pair
	}
	return impl.Push, impl.Pull
}

// needsReturn reports whether the workload has a return path.
func needsReturn(cfg *config.Config) bool {
	return cfg.Pattern == config.PubSub || (cfg.Pattern.OneWay() && cfg.Mode == config.Latency)
}

// driversBind reports whether the drivers bind (pubsub: the PUB is the
// hub) rather than the sinks.
func driversBind(cfg *config.Config) bool { return cfg.Pattern == config.PubSub }

// endpoints resolves the data and return endpoints to bind or connect.
func endpoints(cfg *config.Config, tag string) (data, ret string, err error) {
	data = cfg.Endpoint
	if data == "" {
		data = config.LocalEndpoint(cfg.Transport, tag+"-data")
	}
	if !needsReturn(cfg) {
		return data, "", nil
	}
	ret = cfg.ReturnEndpoint
	switch {
	case ret != "":
	case cfg.Endpoint == "":
		ret = config.LocalEndpoint(cfg.Transport, tag+"-ret")
	default:
		if ret, err = config.DeriveReturnEndpoint(data); err != nil {
			return "", "", err
		}
	}
	return data, ret, nil
}

// build makes, binds and connects this process's sockets. The binding
// side comes first so the connecting side finds it.
func build(ctx context.Context, cfg *config.Config, im impl.Impl, tag string, onListening func(string, string)) (*topology, error) {
	t := &topology{}
	data, ret, err := endpoints(cfg, tag)
	if err != nil {
		return nil, err
	}
	dk, sk := kinds(cfg.Pattern)
	o := impl.Options{HWM: cfg.HWM, Transport: cfg.Transport, QUIC: cfg.QUIC, Linger: cfg.Role != config.Both}
	nd, ns := cfg.Drivers(), cfg.Fanout()
	runDrivers := cfg.Role == config.Both || (cfg.Role == config.Local) == driversBind(cfg)
	runSinks := cfg.Role == config.Both || (cfg.Role == config.Local) != driversBind(cfg)
	// The return path runs from the sinks' PUSH to the drivers' PULL.
	retSink, retDriver := impl.Push, impl.Pull
	mk := func(k impl.Kind, binds bool) (impl.Socket, error) {
		o := o
		if cfg.Curve {
			o.Curve = impl.CurveClient
			if binds {
				o.Curve = impl.CurveServer
			}
		}
		s, err := im.NewSocket(ctx, k, o)
		if err != nil {
			return nil, err
		}
		t.all = append(t.all, s)
		return s, nil
	}
	newEnds := func(n int, k, rk impl.Kind, binds bool) ([]*end, error) {
		ends := make([]*end, n)
		for i := range ends {
			e := &end{index: i}
			var err error
			if e.data, err = mk(k, binds); err != nil {
				return nil, err
			}
			if ret != "" {
				if e.ret, err = mk(rk, binds); err != nil {
					return nil, err
				}
			}
			ends[i] = e
		}
		return ends, nil
	}
	fail := func(err error) (*topology, error) {
		t.close()
		return nil, err
	}
	if runDrivers {
		if t.drivers, err = newEnds(nd, dk, retDriver, driversBind(cfg)); err != nil {
			return fail(err)
		}
	}
	if runSinks {
		if t.sinks, err = newEnds(ns, sk, retSink, !driversBind(cfg)); err != nil {
			return fail(err)
		}
	}
	binders, connectors := t.sinks, t.drivers
	if driversBind(cfg) {
		binders, connectors = t.drivers, t.sinks
	}
	// One binder in every pattern: the PULL, REP, ROUTER or PAIR, or the PUB.
	if len(binders) > 0 {
		b := binders[0]
		if data, err = b.data.Bind(data); err != nil {
			return fail(fmt.Errorf("bind %s: %w", data, err))
		}
		if b.ret != nil {
			if ret, err = b.ret.Bind(ret); err != nil {
				return fail(fmt.Errorf("bind %s: %w", ret, err))
			}
		}
		if cfg.Role == config.Local && onListening != nil {
			onListening(data, ret)
		}
	}
	for _, c := range connectors {
		if err := c.data.Connect(data); err != nil {
			return fail(fmt.Errorf("connect %s: %w", data, err))
		}
		if c.ret != nil {
			if err := c.ret.Connect(ret); err != nil {
				return fail(fmt.Errorf("connect %s: %w", ret, err))
			}
		}
	}
	return t, nil
}

// dropped sums what the libraries say they dropped.
func (t *topology) dropped() uint64 {
	var n uint64
	for _, s := range t.all {
		if d, ok := s.(impl.Dropper); ok {
			n += d.Dropped()
		}
	}
	return n
}

// close closes every socket; call it only once no goroutine uses them.
func (t *topology) close() error {
	var first error
	for _, s := range t.all {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
