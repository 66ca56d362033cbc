package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/brookmq/brook/durable"
)

// Exit statuses.
const (
	exitOK     = 0
	exitDamage = 1
	exitError  = 2
)

const usage = `usage: mqjournal <command> [flags] DIR

commands:
  stat    summary: id, epoch, offsets, segments, cursors; exit status 1 when
          the tail is torn or damaged
  dump    records with offsets, timestamps and a payload preview; exit status 1
          when it stopped before a torn or damaged tail
  verify  full CRC scan of every record; exit status 1 on damage
  repair  recover as a writer (cuts a torn tail); -skip replaces corruption with
          a gap, -truncate cuts the journal at it
`

// run executes one command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "stat":
		return statCmd(rest, stdout, stderr)
	case "dump":
		return dumpCmd(rest, stdout, stderr)
	case "verify":
		return verifyCmd(rest, stdout, stderr)
	case "repair":
		return repairCmd(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mqjournal: unknown command %q\n%s", cmd, usage)
	return exitError
}

// parse parses flags and the single DIR argument.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (string, bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "mqjournal %s: expected one journal directory\n", fs.Name())
		fs.Usage()
		return "", false
	}
	return fs.Arg(0), true
}

// openRO opens a journal read-only, reporting failure.
func openRO(cmd, dir string, stderr io.Writer) (*durable.Log, int) {
	l, err := durable.Open(dir, durable.ReadOnly())
	if err != nil {
		fmt.Fprintf(stderr, "mqjournal %s: %v\n", cmd, err)
		if errors.Is(err, durable.ErrCorrupt) {
			return nil, exitDamage
		}
		return nil, exitError
	}
	return l, exitOK
}

func statCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stat", flag.ContinueOnError)
	dir, ok := parse(fs, args, stderr)
	if !ok {
		return exitError
	}
	l, code := openRO("stat", dir, stderr)
	if l == nil {
		return code
	}
	defer l.Close()
	endAtOpen := l.End()
	st := l.Stats()
	fmt.Fprintf(stdout, "journal   %s\n", st.ID)
	fmt.Fprintf(stdout, "created   %s\n", st.Created.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(stdout, "epoch     %d since offset %d\n", st.Epoch.N, st.Epoch.Start)
	fmt.Fprintf(stdout, "offsets   %d .. %d (%d records)\n", st.First, st.End, st.End-st.First)
	fmt.Fprintf(stdout, "bytes     %d in %d segments\n", st.Bytes, len(st.Segments))
	for _, s := range st.Segments {
		state := "active"
		if s.Sealed {
			state = "sealed"
		}
		last := "-"
		if !s.Last.IsZero() {
			last = s.Last.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(stdout, "segment   %020d  %s  offsets %d..%d  %d bytes  %d index entries  last %s\n",
			s.Base, state, s.Base, s.End, s.Size, s.IndexEntries, last)
	}
	for _, c := range st.Cursors {
		fmt.Fprintf(stdout, "cursor    %s  offset %d  ranges %s\n", c.Name, c.Offset, formatRanges(c.Ranges))
	}
	if rec, damaged := tailDamage(l, endAtOpen); damaged {
		reportRecovery(rec, stdout)
		return exitDamage
	}
	return exitOK
}

// tailDamage returns what Open's recovery found, and whether it found a
// damaged or torn tail that is still there: a read-only Open ends the
// journal before either, so the commands that show it must say so. A torn
// tail that the writer has since completed (records past endAtOpen) was a
// live writer in the middle of a write, not damage.
func tailDamage(l *durable.Log, endAtOpen uint64) (durable.Recovery, bool) {
	rec := l.Recovery()
	if rec.TornBytes > 0 {
		if err := l.Refresh(); err == nil && l.End() > endAtOpen {
			rec.TornBytes = 0
		}
	}
	return rec, rec.TornBytes > 0 || rec.Ignored != nil
}

func formatRanges(rs []durable.AckRange) string {
	if len(rs) == 0 {
		return "-"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("[%d,%d)", r.Lo, r.Hi)
	}
	return strings.Join(parts, " ")
}

func reportRecovery(r durable.Recovery, w io.Writer) {
	if r.TornBytes > 0 {
		fmt.Fprintf(w, "torn tail %d bytes after the last whole record (a writer's Open cuts it)\n", r.TornBytes)
	}
	if r.Ignored != nil {
		fmt.Fprintf(w, "damage    %v\n", r.Ignored)
	}
}

func dumpCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	from := fs.Int64("from", -1, "first offset (default: the oldest retained)")
	count := fs.Int64("n", -1, "maximum number of records (default: all)")
	preview := fs.Int("preview", 32, "payload bytes shown per record (or frame)")
	follow := fs.Bool("follow", false, "keep printing new records until interrupted")
	dir, ok := parse(fs, args, stderr)
	if !ok {
		return exitError
	}
	l, code := openRO("dump", dir, stderr)
	if l == nil {
		return code
	}
	defer l.Close()
	endAtOpen := l.End()
	start := l.First()
	if *from >= 0 {
		start = uint64(*from)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var ropts []durable.ReaderOption
	if *follow {
		ropts = append(ropts, durable.WaitPastEnd())
	}
	r := l.NewReader(start, ropts...)
	defer r.Close()
	for n := int64(0); *count < 0 || n < *count; n++ {
		if !*follow && r.Offset() >= l.End() {
			break
		}
		rec, err := r.Next(ctx)
		var gap *durable.GapError
		if errors.As(err, &gap) {
			fmt.Fprintf(stdout, "%d..%d\t(gap: lost to damage, skipped by repair)\n", gap.From, gap.To-1)
			continue
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				break
			}
			fmt.Fprintf(stderr, "mqjournal dump: %v\n", err)
			if errors.Is(err, durable.ErrCorrupt) {
				return exitDamage
			}
			return exitError
		}
		fmt.Fprintln(stdout, formatRecord(rec, *preview))
	}
	if rec, damaged := tailDamage(l, endAtOpen); damaged && r.Offset() >= l.End() {
		fmt.Fprintf(stderr, "mqjournal dump: stopped at offset %d: ", l.End())
		reportRecovery(rec, stderr)
		return exitDamage
	}
	return exitOK
}

// formatRecord renders "offset time size payload-preview".
func formatRecord(rec durable.Record, preview int) string {
	ts := rec.Time.UTC().Format(time.RFC3339Nano)
	if !rec.Multipart() {
		return fmt.Sprintf("%d\t%s\t%d\t%s", rec.Offset, ts, len(rec.Data), previewBytes(rec.Data, preview))
	}
	frames, err := rec.Frames()
	if err != nil {
		return fmt.Sprintf("%d\t%s\t%d\t(bad frames: %v)", rec.Offset, ts, len(rec.Data), err)
	}
	parts := make([]string, len(frames))
	for i, f := range frames {
		parts[i] = previewBytes(f, preview)
	}
	return fmt.Sprintf("%d\t%s\t%d\t%d frames: %s", rec.Offset, ts, len(rec.Data), len(frames), strings.Join(parts, " | "))
}

// previewBytes quotes up to n bytes of b, marking truncation.
func previewBytes(b []byte, n int) string {
	if n < 0 {
		n = 0
	}
	more := ""
	if len(b) > n {
		b, more = b[:n], "..."
	}
	return fmt.Sprintf("%q%s", b, more)
}

func verifyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	dir, ok := parse(fs, args, stderr)
	if !ok {
		return exitError
	}
	l, code := openRO("verify", dir, stderr)
	if l == nil {
		return code
	}
	defer l.Close()
	endAtOpen := l.End()
	rep, err := l.Verify(context.Background())
	status := exitOK
	if err != nil {
		fmt.Fprintf(stdout, "DAMAGED   %v\n", err)
		status = exitDamage
		if !errors.Is(err, durable.ErrCorrupt) {
			status = exitError
		}
	}
	rec, damaged := tailDamage(l, endAtOpen)
	if damaged {
		reportRecovery(rec, stdout)
		status = max(status, exitDamage)
	}
	for _, c := range rec.CursorFallbacks {
		fmt.Fprintf(stdout, "cursor    %s: file damaged or missing, read from another copy or reset\n", c)
	}
	fmt.Fprintf(stdout, "verified  %d records, %d bytes in %d segments, offsets %d..%d\n",
		rep.Records, rep.Bytes, rep.Segments, rep.First, rep.End)
	if rep.Gaps > 0 {
		fmt.Fprintf(stdout, "gaps      %d offsets skipped by an earlier repair\n", rep.Gaps)
	}
	if status == exitOK {
		fmt.Fprintln(stdout, "ok")
	}
	return status
}

func repairCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repair", flag.ContinueOnError)
	truncate := fs.Bool("truncate", false, "also cut the journal at mid-log corruption (the rest is kept under lost/)")
	skip := fs.Bool("skip", false, "replace mid-log corruption with gaps and keep the records after it")
	dir, ok := parse(fs, args, stderr)
	if !ok {
		return exitError
	}
	if *truncate && *skip {
		fmt.Fprintln(stderr, "mqjournal repair: -truncate and -skip exclude each other")
		return exitError
	}
	opts := []durable.Option{}
	switch {
	case *truncate:
		opts = append(opts, durable.WithRepair(durable.RepairTruncate))
	case *skip:
		opts = append(opts, durable.WithRepair(durable.RepairSkip))
	}
	l, err := durable.Open(dir, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "mqjournal repair: %v\n", err)
		if errors.Is(err, durable.ErrCorrupt) {
			if !*truncate && !*skip {
				fmt.Fprintln(stderr, "mqjournal repair: rerun with -skip to replace the damage with a gap, or -truncate to cut the journal there")
			}
			return exitDamage
		}
		return exitError
	}
	r := l.Recovery()
	// Without a policy Open trusts sealed segments' index files and checks
	// only the tail: a full scan says whether damage is left in place.
	var left error
	if !*truncate && !*skip {
		if _, verr := l.Verify(context.Background()); verr != nil {
			left = verr
		}
	}
	if err := l.Close(); err != nil {
		fmt.Fprintf(stderr, "mqjournal repair: %v\n", err)
		return exitError
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(stdout, "gap        offsets %d..%d replaced by a gap record\n", g.From, g.To-1)
	}
	switch {
	case r.Repaired != nil:
		fmt.Fprintf(stdout, "cut at     %v\n", r.Repaired)
	case r.TornBytes > 0:
		fmt.Fprintf(stdout, "torn tail  %d bytes cut\n", r.TornBytes)
	case len(r.Gaps) == 0 && left == nil:
		fmt.Fprintln(stdout, "nothing to repair")
	}
	for _, f := range r.LostFiles {
		fmt.Fprintf(stdout, "kept       %s\n", f)
	}
	for _, s := range r.RebuiltIndexes {
		fmt.Fprintf(stdout, "reindexed  %020d\n", s)
	}
	for _, c := range r.ClampedCursors {
		fmt.Fprintf(stdout, "clamped    cursor %s\n", c)
	}
	for _, c := range r.CursorFallbacks {
		fmt.Fprintf(stdout, "fallback   cursor %s\n", c)
	}
	if left != nil {
		fmt.Fprintf(stdout, "DAMAGED    %v\n", left)
		if errors.Is(left, durable.ErrCorrupt) {
			fmt.Fprintln(stderr, "mqjournal repair: damage left in place; rerun with -skip to replace it with a gap, or -truncate to cut the journal there")
			return exitDamage
		}
		return exitError
	}
	return exitOK
}
