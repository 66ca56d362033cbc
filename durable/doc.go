// Package durable is brook's crash-safe local journal: an append-only log of
// records split into segment files, with named cursors, retention and
// recovery. It stands alone (a local Kafka partition) and is used under
// journaled sockets.
//
// # Guarantees
//
//   - After any crash, reopening yields a prefix of what was appended: no
//     holes, no reordering, every record byte-identical. Records whose
//     bytes a power loss left out of order (a hole in the unsynced tail with
//     later records present) are cut as a torn tail: every record carries
//     how far the journal was fsynced when it was encoded, which tells an
//     unsynced hole from damage to synced data.
//   - After a clean shutdown (Close) the journal reopens exactly as it was
//     closed: any difference from what the clean-shutdown marker records (a
//     changed or missing record or segment) is a *CorruptError, never a
//     shorter journal.
//   - Offsets are stable within an epoch (see Epoch): Open starts a new
//     epoch whenever recovery might have dropped records that were visible
//     before (no clean shutdown, or anything cut or repaired), starting at
//     the offset after the last record kept, and Log.StableSince says below
//     which offset an earlier epoch's records are all still there. So
//     (journal id, epoch, offset) never names two different records.
//   - An append acknowledged in Group (the default) or Always sync mode has
//     been fsynced (fdatasync) and survives a process kill, and power loss
//     where the device honours flushes. Interval(d) acknowledges after
//     write(2): it survives a process kill but an OS crash can lose up to d.
//     None acknowledges once the record is queued in memory: a process crash
//     can lose the records not yet written.
//   - A torn tail is truncated on Open (the cut bytes are kept under lost/);
//     damage anywhere else is a *CorruptError (ErrCorrupt), never skipped
//     silently: only an explicit WithRepair policy cuts it (RepairTruncate)
//     or replaces it with a gap that readers see as a *GapError (RepairSkip).
//   - After any write or fsync error the Log is failed (ErrFailed, sticky):
//     nothing is acknowledged any more until it is closed and reopened. A
//     failed fsync is never retried, since the kernel may already have
//     dropped the dirty pages.
//   - A persisted cursor never points past the durable end, and neither a
//     cursor nor a position forgets an acknowledgement it accepted (one that
//     would overflow the range bound is refused with ErrRangesFull). Below
//     the free-space floor Append fails with ErrFull before writing
//     anything.
//   - Readers see records up to the durable end in Group and Always mode,
//     up to the written end in Interval and None mode and in a ReadOnly Log.
//
// # Directory layout
//
//	<dir>/
//	  LOCK                        flock(2)ed by the one writer (ErrLocked otherwise)
//	  META                        magic, format version, journal id, created time, epochs
//	  CLEAN                       clean-shutdown marker, present only while closed
//	  00000000000000000000.log    segment: header + records, named by base offset
//	  00000000000000000000.idx    sparse offset/time index of a sealed segment
//	  00000000000000004711.log    next segment; names sort lexically = by offset
//	  cursors/<name>              a named cursor; <name>.prev is its previous copy
//	  lost/                       bytes cut by recovery or repair, never read again
//	  *.tmp                       half-written replacement files, deleted by Open
//
// Every file is replaced by writing <name>.tmp, fsyncing it, renaming it over
// <name> and fsyncing the directory, so a crash leaves either the old or the
// new version (a cursor's old version is kept as <name>.prev). Open creates
// the directory (and cursors/, lost/) and fsyncs the parent of each
// directory it creates. It refuses (ErrNotJournal) a directory that holds
// other files and no META, before writing anything into it.
//
// All integers are little-endian. Every small file starts with the same
// 16-byte header: an 8-byte ASCII magic, a uint32 format version (2) and a
// CRC32C (Castagnoli) of the whole file with the CRC field itself left out.
// Every file of a journal carries format version 2; a version 1 journal
// (before epochs and the record lag) is refused with ErrFormatVersion,
// whatever the repair policy, and left untouched.
//
// # META (56 bytes + 16 per epoch)
//
//	 0       8       12      16                              32          40          48      52      56
//	+-------+-------+-------+-------------------------------+-----------+-----------+-------+-------+
//	|"brookJNL"|ver |  crc  |      journal id (16 random)   |created ns |  dropped  | count |   0   |
//	+-------+-------+-------+-------------------------------+-----------+-----------+-------+-------+
//	| count x { epoch number uint64, start offset uint64 }, oldest first; the last is current  |
//	+-------------------------------------------------------------------------------------------+
//
// A new journal starts with the single epoch {1, 0}. Epoch numbers are
// consecutive; at most 64 are kept, and "dropped" is the lowest start of the
// epochs forgotten (all ones while none was), so that Log.StableSince
// answers for old epochs too, conservatively. META is rewritten (atomically,
// before any append) by every Open that starts a new epoch. When a repair
// rewrites a lost META from the first segment header the history is gone:
// the new epoch is numbered from the clock (above every earlier number) and
// dropped is 0 (nothing is known to be stable).
//
// # Segment file
//
// A segment starts with a 48-byte header followed by records back to back.
// Segments are created as <name>.tmp with the header, preallocated to the
// segment size with zeros (fallocate(2), WithPreallocate), fsynced, renamed
// and the directory fsynced, so a segment that exists has a whole header,
// and an fdatasync after an append need not commit a new file size. A
// segment is sealed when the next one is created; before that it is cut back
// to its records, fsynced and its index file written, so every sealed
// segment is durable and ends exactly after its last record. The active
// segment is cut back the same way by Close. Zeros after the last record of
// the active segment are unwritten space.
//
// With WithCacheKeep the writer asks the kernel, after each fdatasync, to
// drop the synced pages of the active segment older than its newest n
// bytes from the page cache (POSIX_FADV_DONTNEED), and those of a segment
// it seals, so that appends reuse the pages just freed instead of growing
// the cache (in a virtual machine whose host reclaims free guest memory,
// each new page costs a host fault). Readers further behind then read
// from the disk. By default nothing is dropped.
//
//	 0       8       12      16          24                              40          48
//	+-------+-------+-------+-----------+-------------------------------+-----------+
//	|"brookSEG"|ver |  crc  |base offset|          journal id           |created ns |
//	+-------+-------+-------+-----------+-------------------------------+-----------+
//
// The base offset must equal the file name and the journal id must equal
// META's, which catches a segment copied from another journal.
//
// # Record
//
// Records are 8-byte aligned (a 32-byte header and the payload padded with
// zeros), so a length word never straddles a sector boundary.
//
//	 0           4           8           12          16                      24                      32
//	+-----------+-----------+-----------+-----------+-----------------------+-----------------------+
//	|  length   |  crc32c   |   flags   |    lag    |    absolute offset    |  timestamp (unix ns)  |
//	+-----------+-----------+-----------+-----------+-----------------------+-----------------------+
//	|  payload (length bytes) ...                         | zero padding to a multiple of 8         |
//	+-----------------------------------------------------+-----------------------------------------+
//
// The fields:
//
//   - length: payload bytes, at most 2^28 (checked before anything is read
//     or allocated; a length running past the end of the file is damage).
//   - crc32c: Castagnoli CRC of the length word followed by everything after
//     the CRC field: flags, lag, offset, timestamp, payload and padding.
//     (The length is covered too: a flipped low bit would otherwise change the
//     payload length without changing the padded size.)
//   - flags: bit 0 = multipart, bit 2 = gap; all other bits are reserved and
//     must be zero (bit 1 is set aside for a future compressed encoding and
//     rejected by this version), and multipart and gap exclude each other.
//   - lag: how far the durable end trailed this record when it was encoded:
//     every offset below offset-lag had been fsynced (lag at most offset;
//     saturated at 2^32-1, which only weakens the claim). Recovery uses it
//     to tell a torn tail from corruption (pebble's "synced offset"). A gap
//     record has lag 0 (the repair fsyncs what precedes it first).
//   - offset: the record's absolute offset. Offsets are gapless: a record's
//     offset is its predecessor's plus one and a segment's first record has
//     the segment's base offset. Readers and recovery check it, which catches
//     stale or misplaced data that happens to have a valid CRC.
//   - timestamp: time of the append, made non-decreasing by the writer.
//     With the default clock it is a wall-clock reading at most 10 ms old
//     plus the monotonic time since, one clock read a record: it departs
//     from the wall clock only for up to 10 ms after the clock is stepped.
//   - A multipart payload is a sequence of frames, each a uvarint length
//     followed by that many bytes.
//   - A gap record is written only by RepairSkip, over damaged bytes (kept
//     under lost/), sized to fill them exactly. Its payload starts with the
//     uint64 offset of the record that follows it; it stands for the offsets
//     from its own up to that one, which Readers report as a *GapError.
//     Every offset is then either a record or inside exactly one gap.
//
// # Index file (.idx)
//
// A sparse index of one sealed segment: one entry for its first record and
// then one every WithIndexInterval bytes (4 KiB by default).
//
//	 0       8       12      16          24          32          40          48      52      56
//	+-------+-------+-------+-----------+-----------+-----------+-----------+-------+-------+
//	|"brookIDX"|ver |  crc  |base offset|end offset |segment sz |last rec ts| count |  0    |
//	+-------+-------+-------+-----------+-----------+-----------+-----------+-------+-------+
//	| count x { offset uint64, byte position uint64, timestamp int64 } (24 bytes each)     |
//	+---------------------------------------------------------------------------------------+
//
// The index is a cache. It is used only if its CRC is good, its base and
// segment size match the segment file, its end offset equals the next
// segment's base and its entries are ordered and in range; otherwise the
// segment is scanned and the index rewritten. A reader that finds a record
// other than the expected one at an indexed position rescans from the start
// of the segment. Lookups by offset (Reader) and by time (OffsetAt) binary
// search the entries and then scan forward a few records.
//
// # CLEAN (48 bytes)
//
//	 0       8       12      16          24             32             40             48
//	+-------+-------+-------+-----------+--------------+--------------+--------------+
//	|"brookCLN"|ver |  crc  |next offset|first seg base|last seg base |last seg size |
//	+-------+-------+-------+-----------+--------------+--------------+--------------+
//
// Written by Close after everything is fsynced, the last segment cut back
// to its records and its index file written; removed together with that
// index file (which appends would make stale) and the directory fsynced by
// the next writer's Open before it appends anything (by a repairing Open,
// before it changes anything). While it is there the directory must match
// it exactly: same first and last segment, last segment of that size,
// ending with offset next; anything else (and a CLEAN failing its CRC) is
// corruption.
//
// # Cursor and position files (cursors/<name>, <positions dir>/<name>)
//
//	 0       8       12      16          24          32          40      44      48
//	+-------+-------+-------+-----------+-----------+-----------+-------+-------+--------------------------------+
//	|"brookCUR"|ver |  crc  |generation | ack floor |   epoch   | count |   0   | count x { lo uint64, hi uint64 }|
//	+-------+-------+-------+-----------+-----------+-----------+-------+-------+--------------------------------+
//
// Every offset below the floor is acknowledged, and so is every offset in the
// half-open ranges [lo, hi), which are sorted, disjoint and above the floor.
// The file is rewritten as <name>.tmp (fsynced), then <name> is renamed to
// <name>.prev and <name>.tmp to <name>, then the directory is fsynced; each
// rewrite has a generation one higher than the last. Open loads the valid
// copy with the highest generation among <name>.tmp (a rewrite a crash
// interrupted after its fsync), <name> and <name>.prev, rewrites it as
// <name> if it was not that one, and only then deletes temporary files; a
// name none of whose copies is valid is reset (a cursor to the oldest
// record, a position to empty) and reported: redelivery, never loss.
//
// A cursor's floor and ranges are clipped to the durable end when written,
// and its epoch is the journal's epoch then. A position (OpenPositions)
// holds offsets of another journal: nothing clips them, and its epoch is
// that journal's, as the caller stored it. At most WithMaxAckRanges ranges
// are kept: an acknowledgement that would need one more is refused with
// ErrRangesFull and recorded nowhere, so nothing acknowledged is ever
// forgotten silently.
//
// A positions directory holds a 16-byte marker file POSITIONS (magic
// "brookPOS", version, CRC; OpenPositions refuses a non-empty directory
// without it), a LOCK flock(2)ed by the one process using it, and the files
// above.
//
// # Writing and group commit
//
// Append, and AppendAsync (which returns once the record is queued and
// leaves the wait to WaitDurable), assign the next offset and encode the
// record, with the current durable end as its lag, into the pending batch
// under a mutex; the batch is bounded (WithMaxPendingBytes) and appenders
// wait for room. One writer goroutine takes the whole batch, writes it with
// one pwrite(2) per segment touched and, in Group mode, one fdatasync, then
// publishes the new ends and wakes every waiter; the next batch builds up
// while it syncs, so one goroutine with many AppendAsyncs in flight fills
// batches as well as many goroutines calling Append. AppendMsgsAsync
// encodes a whole slice of records under one acquisition of the mutex,
// with one clock reading and one wake-up of the writer (again after any
// wait for room), so the per-record cost of appending is the encoding and
// its checksum. Always serialises
// appenders, and each writes and fdatasyncs its own record on its own
// goroutine (under the same lock as the writer goroutine), so there is one
// record per fdatasync and no hand-off between goroutines on the way. In
// Interval mode a timer is armed only while written records wait for their
// fsync. A segment rolls when the next record would take it over the
// segment size (a record larger than a whole segment is refused) or, with
// WithSegmentAge, when it is older than that age.
//
// # Reading and tailing
//
// A Reader returns records in offset order and waits at the end for new
// ones; an offset below First (retention) or past the end (no record has
// it: a position from a replaced or rewound journal) gives an
// *OutOfRangeError unless the Reader was made with WaitPastEnd. A
// dispatcher can tail without Readers: Log.Changed returns a channel closed
// at the next change of End, DurableEnd or the failure state. A ReadOnly
// Log follows a writer in another process by polling; it also re-reads META
// and adopts the writer's new epoch when nothing it has seen was dropped,
// and otherwise fails with a *RewoundError (reopen it).
//
// # Recovery (Open)
//
//  1. Create the directory durably, refuse a foreign one, take the lock (not
//     for ReadOnly), read META, delete *.tmp files, list the segments, check
//     each header, read CLEAN.
//  2. Sealed segments: load the index file if it checks out (see above),
//     else verify every record and rebuild it. A damaged record or a broken
//     offset chain in a sealed segment is corruption.
//  3. With a valid CLEAN: the first and last segments must be the ones it
//     names, and the last must end exactly where it says. With the last
//     segment's valid index only the records after its last entry are
//     verified; otherwise (or with a repair policy) every record. Any
//     mismatch is corruption.
//  4. Without CLEAN, every record of the last segment is verified (length
//     bounds, reserved bits, CRC, lag, expected offset). At the first failure
//     at byte P, expected offset O: if a verifiable record with an offset at
//     or above O starts at an aligned position after P and its lag says O was
//     already fsynced (offset-lag > O), it is corruption. Otherwise it is a
//     torn tail: the bytes [P, last non-zero byte] are copied to lost/, the
//     segment is truncated at P and fsynced. Holes left by unsynced pages
//     written out of order are so cut, and damage to fsynced records with
//     later records after it is reported.
//  5. Corruption fails Open with a *CorruptError{Segment, Offset, Pos} (File
//     for META, CLEAN) unless a repair policy was chosen; both verify every
//     segment (index files are not trusted). RepairTruncate cuts the journal
//     at the first damage (the rest of that segment and all later segments
//     go to lost/). RepairSkip replaces each damaged region with a gap
//     record and keeps what follows.
//  6. A writer then fsyncs the last segment (what a killed process left in
//     the page cache becomes durable, so the ends recovery reports are
//     true), records a new epoch in META unless CLEAN matched and nothing was
//     repaired, removes CLEAN and the last segment's index, and preallocates
//     the last segment. Then cursors are loaded (from the newest valid
//     copy, see above), clamped to the end (and reported) and retention
//     applied.
//
// Open only scans the last segment: sealed segments were fsynced when sealed.
// Log.Verify (and `mqjournal verify`) reads every record of every segment.
// The torn-tail rule has two limits. Damage to the last fsynced records
// with nothing after them (after a crash, not after a clean shutdown) looks
// like a torn tail and is cut: no later record can vouch for them. And a
// torn record's payload that itself holds a whole encoded record of this
// journal (a journal of journal records) with a plausible offset and lag
// can make Open report corruption; RepairTruncate then cuts there. A
// ReadOnly Open changes nothing: its view simply ends before a torn or
// damaged tail (reported in Recovery); it keeps reading segments it has open
// after the writer's retention deletes them, and starts after any that were
// deleted before it opened them.
//
// # Epochs
//
// Log.Epoch gives the current epoch {N, Start}. A consumer that stored
// (journal id, epoch n, offset) checks it with Log.CheckResume or
// Log.StableSince(n): records below StableSince(n) are the ones epoch n saw;
// from there on the offsets may hold records epoch n never saw (and the
// ones it saw may be gone), so it reads again from there.
//
// # File system
//
// Every disk operation goes through the FS interface (OSFS by default), so
// tests substitute an implementation that injects ENOSPC, fsync and rename
// errors or simulates a power loss that drops, tears, reorders or holes
// unsynced pages and forgets directory entries whose directory was not
// fsynced. Preallocation is an optional capability of a File (Allocator).
//
// # Retention
//
// Retention deletes whole sealed segments, oldest first: while the journal
// exceeds WithRetainBytes, while the oldest segment's newest record is older
// than WithRetainAge, and while every cursor's persisted floor is past the
// segment (WithRetainConsumed). It runs at Open, after each roll and on
// EnforceRetention. A Reader positioned in a deleted segment finishes it; a
// Reader asking for a deleted offset gets ErrOutOfRange.
//
// # Failure tests
//
// The tests cite these by number ("doc.go's failure tests"):
//
//  1. SIGKILL of a child process appending under load (all sync modes, many
//     producers, during rolls, retention and cursor rewrites), many times:
//     every acknowledged record present and identical, a gapless prefix,
//     nothing never appended, appends work afterwards, epochs advance.
//  2. Lost unsynced data: a fault-injecting FS drops, tears, reorders and
//     holes whatever was not fsynced (directory entries too): no
//     acknowledged loss in Always or Group mode.
//  3. The last segment truncated at every byte of its last records, the last
//     sectors zero- or garbage-filled: a torn tail after a crash, corruption
//     after a clean shutdown.
//  4. Bit flips in the tail record, mid-log and in every header field.
//  5. Damaged or missing index and cursor files: rebuilt or fallen back.
//  6. Disk full and injected fsync errors: sticky failure, nothing
//     acknowledged after it, nothing partial after reopen.
//  7. Concurrent tailing readers during appends, rolls and retention.
//  8. A second writer process gets ErrLocked; a read-only opener tails.
//  9. Fuzzing of the record decoder and of Open over directory images.
package durable
