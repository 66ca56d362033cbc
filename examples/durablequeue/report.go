package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/brookmq/brook/durable"
	"github.com/brookmq/brook/socket"
)

// report checks the ledger and the producer's journal as it was left on
// disk, prints the account, and says whether the run kept every promise
// the journaled sockets make.
//
// Proof that nothing was lost: every message whose send succeeded was
// processed (a worker printed it before acknowledging it), and the
// journal's acknowledgement cursor, reopened after the last producer
// exited, stands at the journal's end: every message ever journaled,
// including those of killed producers whose send never returned, was
// acknowledged by a worker.
func (c *coordinator) report() (bool, error) {
	floor, end, err := journalOnDisk(filepath.Join(c.dir, "journal"))
	if err != nil {
		return false, err
	}
	led := c.led
	notProcessed, nNotProcessed := led.missing(10)
	distinct := len(led.gots)
	extra := int(end) - led.nConfirmed
	fmt.Fprintf(c.out, "sent:       %d messages whose Send succeeded (durable), by %d producer processes; %d more were journaled by killed producers before their Send returned\n",
		led.nConfirmed, c.prodInc, extra)
	if nNotProcessed == 0 {
		fmt.Fprintf(c.out, "received:   all %d processed by a worker, none lost; with the %d journaled by killed producers, %d distinct messages\n",
			led.nConfirmed, led.unconfirmedReceived(), distinct)
	} else {
		fmt.Fprintf(c.out, "received:   LOST %d of the %d confirmed messages, e.g. %s\n", nNotProcessed, led.nConfirmed, formatKeys(notProcessed))
	}
	fmt.Fprintf(c.out, "journal:    reopened after the producer's exit: cursor %s at %d, journal end %d\n", socket.DefaultJournalCursor, floor, end)
	fmt.Fprintf(c.out, "deliveries: %d to the application, of %d distinct messages: %d processed more than once\n",
		led.deliveries, distinct, led.deliveries-distinct)
	fmt.Fprintf(c.out, "  %d again at a worker that had acknowledged it (its dedup store must drop those: guarantee 3)\n", led.sameWorker)
	fmt.Fprintf(c.out, "  %d at another worker after one had acknowledged it: the producer never got that acknowledgement (it died with the producer, or with the worker's connection; mostly what was in flight, -inflight per worker, when the producer was killed)\n", led.otherWorker)
	fmt.Fprintf(c.out, "  %d after the worker processing it was killed before its Ack returned (ack after processing is at least once)\n", led.beforeAck)
	fmt.Fprintf(c.out, "dedup stores: %d deliveries of acknowledged messages dropped before the application (counted by the %d worker processes that exited cleanly)\n",
		c.dedupDrops, c.cleanExits)

	var failures []string
	if nNotProcessed > 0 {
		failures = append(failures, fmt.Sprintf("%d confirmed messages never processed", nNotProcessed))
	}
	if floor != end {
		failures = append(failures, fmt.Sprintf("%d journaled messages not acknowledged", end-floor))
	}
	if uint64(distinct) != end {
		failures = append(failures, fmt.Sprintf("%d distinct messages processed but %d journaled", distinct, end))
	}
	if led.sameWorker > 0 {
		failures = append(failures, fmt.Sprintf("%d acknowledged messages passed again to the same worker", led.sameWorker))
	}
	if len(failures) > 0 {
		fmt.Fprintf(c.out, "result: FAILED: %s\n", strings.Join(failures, "; "))
		return false, nil
	}
	fmt.Fprintf(c.out, "result: OK: every one of the %d messages whose Send succeeded was processed and acknowledged across %d producer and %d worker SIGKILLs; no acknowledged message reached its worker again\n",
		led.nConfirmed, c.prodInc-1, c.killedWorkers())
	return true, nil
}

func (c *coordinator) killedWorkers() int {
	n := 0
	for _, inc := range c.workerInc {
		n += inc - 1
	}
	return n
}

// journalOnDisk opens the journal read-only and returns its queue
// cursor's floor and its end.
func journalOnDisk(dir string) (floor, end uint64, err error) {
	log, err := durable.Open(dir, durable.ReadOnly())
	if err != nil {
		return 0, 0, fmt.Errorf("reopening the journal: %w", err)
	}
	defer log.Close()
	cur, err := log.Cursor(socket.DefaultJournalCursor)
	if err != nil {
		return 0, 0, fmt.Errorf("the journal's cursor: %w", err)
	}
	return cur.Offset(), log.End(), nil
}
