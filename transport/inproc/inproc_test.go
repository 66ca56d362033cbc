package inproc_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
	"github.com/brookmq/brook/transport/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestConformance runs the transport suite, each subtest in its own
// namespace.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return inproc.New(inproc.NewNamespace()), "inproc://" + t.Name()
	}, transporttest.Caps{})
}

// TestConformanceDefaultNamespace runs the suite once more over the
// process-wide namespace, with names unique to each subtest.
func TestConformanceDefaultNamespace(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (transport.Transport, string) {
		return inproc.New(nil), "inproc://default/" + t.Name()
	}, transporttest.Caps{})
}
