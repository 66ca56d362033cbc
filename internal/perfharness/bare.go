package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// bareBuffer is the bufio size on each side of the bare loop.
const bareBuffer = 64 << 10

// bare runs one side of a measurement on the bare loop: one TCP
// connection, 4-byte length-prefixed messages through 64 KiB bufio
// buffers, flushed when full (thr) or per request (lat), received into one
// reused buffer. No framing beyond that, no queue, no goroutine: the
// ceiling for a Go library on this machine.
func (s side) bare() error {
	addr, ok := strings.CutPrefix(s.endpoint, "tcp://")
	if !ok {
		return fmt.Errorf("bare: endpoint %q is not tcp://", s.endpoint)
	}
	var c net.Conn
	if s.local {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		listening()
		c, err = ln.Accept()
		ln.Close()
		if err != nil {
			return err
		}
	} else {
		var err error
		for range 500 {
			if c, err = net.Dial("tcp", addr); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			return err
		}
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, bareBuffer)
	w := bufio.NewWriterSize(c, bareBuffer)
	switch {
	case s.mode == "thr" && s.local:
		return s.bareThrLocal(r)
	case s.mode == "thr":
		return s.bareThrRemote(w, r)
	case s.mode == "lat" && s.local:
		return s.bareEcho(r, w)
	case s.mode == "lat":
		return s.bareLatRemote(r, w)
	}
	return fmt.Errorf("bare: no mode %q", s.mode)
}

func readMsg(r *bufio.Reader, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func writeMsg(w *bufio.Writer, body []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

func (s side) bareThrLocal(r *bufio.Reader) error {
	var buf []byte
	var start time.Time
	for i := range s.count {
		var err error
		if s.fresh {
			buf = nil // a fresh buffer per message, as a library that hands it over must
		}
		if buf, err = readMsg(r, buf); err != nil {
			return err
		}
		if len(buf) != s.size {
			return fmt.Errorf("message %d has %d bytes", i, len(buf))
		}
		if i == 0 {
			start = time.Now()
		}
	}
	el := time.Since(start).Seconds()
	n := float64(s.count - 1)
	fmt.Printf("RESULT msgs/s=%.0f MB/s=%.1f peakRSS_KiB=%d cpu_us=%.2f\n", n/el, n*float64(s.size)/el/1e6, peakRSSKiB(), cpuSeconds()/float64(s.count)*1e6)
	return nil
}

func (s side) bareThrRemote(w *bufio.Writer, r *bufio.Reader) error {
	body := make([]byte, s.size)
	for range s.count {
		if err := writeMsg(w, body); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// Wait for the receiver to hang up, as a lingering socket does.
	_, _ = r.ReadByte()
	fmt.Printf("RESULT sent=%d cpu_us_sender=%.2f\n", s.count, cpuSeconds()/float64(s.count)*1e6)
	return nil
}

func (s side) bareEcho(r *bufio.Reader, w *bufio.Writer) error {
	var buf []byte
	var cost costMeter
	for i := range s.count {
		if i == 1 {
			cost = startCost() // after the connection's first round trip
		}
		var err error
		if buf, err = readMsg(r, buf); err != nil {
			return err
		}
		if err := writeMsg(w, buf); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	printEchoed(s.count, cost)
	return nil
}

func (s side) bareLatRemote(r *bufio.Reader, w *bufio.Writer) error {
	body := make([]byte, s.size)
	var buf []byte
	rtt := make([]time.Duration, s.count)
	var cost costMeter
	for i := range rtt {
		if i == 1 {
			cost = startCost() // after the connection's first round trip
		}
		t0 := time.Now()
		if err := writeMsg(w, body); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		var err error
		if buf, err = readMsg(r, buf); err != nil {
			return err
		}
		rtt[i] = time.Since(t0)
	}
	printLatency(rtt, cost)
	return nil
}
