// Command mqjournal inspects and repairs a brook journal directory (see
// package durable).
//
// Usage:
//
//	mqjournal stat DIR                 summary: id, epoch, offsets, segments, cursors
//	mqjournal dump [flags] DIR         records with offsets, timestamps and a payload preview
//	mqjournal verify DIR               full CRC scan; exit status 1 on any damage
//	mqjournal repair [-skip|-truncate] DIR
//	                                   run recovery as a writer (cuts a torn tail);
//	                                   -skip replaces mid-log corruption with a gap,
//	                                   -truncate cuts the journal there
//
// stat, dump and verify open the journal read-only and may run while a writer
// is appending (an incomplete record a live writer is still writing is not
// reported as a torn tail once the writer has finished it). A read-only view
// ends before a torn or damaged tail: stat and dump report what they could
// not show, and all three exit with status 1 then. repair takes the writer
// lock; without -skip or -truncate it cuts only a torn tail and then
// verifies every record, so damage it leaves in place is reported. Exit
// status: 0 success, 1 damage found (stat, dump, verify) or left in place
// (repair), 2 usage or I/O error.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
