package inproc_test

import (
	"testing"

	"github.com/brookmq/brook/transport"
	"github.com/brookmq/brook/transport/inproc"
)

// The benchmarks move 64-byte one-frame messages from one writer goroutine
// to one reader. "conn" is an inproc connection; "chan" is a bare
// buffered channel of the same capacity, the floor any channel-based
// design starts from; "chan+done" adds the close channel such a design
// must select on.

const benchMsgSize = 64

func benchMsg() transport.Msg {
	return transport.NewMsg(make([]byte, benchMsgSize))
}

func report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkThroughput(b *testing.B) {
	b.Run("conn", func(b *testing.B) {
		c, s := connected(b, "PUSH", "PULL")
		m := benchMsg()
		b.SetBytes(benchMsgSize)
		b.ReportAllocs()
		b.ResetTimer()
		errs := make(chan error, 1)
		go func() {
			for range b.N {
				if err := c.WriteMsg(m); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
		for range b.N {
			if _, err := s.ReadMsg(); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		report(b)
	})

	b.Run("chan", func(b *testing.B) {
		ch := make(chan transport.Msg, inproc.QueueCapacity)
		m := benchMsg()
		b.SetBytes(benchMsgSize)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for range b.N {
				ch <- m
			}
		}()
		for range b.N {
			<-ch
		}
		report(b)
	})

	b.Run("chan+done", func(b *testing.B) {
		ch := make(chan transport.Msg, inproc.QueueCapacity)
		done := make(chan struct{})
		defer close(done)
		m := benchMsg()
		b.SetBytes(benchMsgSize)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for range b.N {
				select {
				case ch <- m:
				case <-done:
					return
				}
			}
		}()
		for range b.N {
			select {
			case <-ch:
			case <-done:
				b.Fatal("closed")
			}
		}
		report(b)
	})
}

// BenchmarkPingPong measures one message there and one back, the latency
// path where no batching helps.
func BenchmarkPingPong(b *testing.B) {
	c, s := connected(b, "PAIR", "PAIR")
	m := benchMsg()
	b.ReportAllocs()
	b.ResetTimer()
	errs := make(chan error, 1)
	go func() {
		for range b.N {
			got, err := s.ReadMsg()
			if err == nil {
				err = s.WriteMsg(got)
			}
			if err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range b.N {
		if err := c.WriteMsg(m); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ReadMsg(); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
