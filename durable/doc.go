// Package durable is brook's crash-safe local journal: an append-only log of
// records split into segment files, with named cursors, retention and
// recovery. It stands alone (a local Kafka partition) and is used under
// journaled sockets.
//
// # Guarantees
//
//   - After any crash, reopening yields a prefix of what was appended: no
//     holes, no reordering, every record byte-identical.
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
//   - A persisted cursor never points past the durable end. Below the
//     free-space floor Append fails with ErrFull before writing anything.
//   - Readers see records up to the durable end in Group and Always mode,
//     up to the written end in Interval and None mode and in a ReadOnly Log.
//
// # Directory layout
//
//	<dir>/
//	  LOCK                        flock(2)ed by the one writer (ErrLocked otherwise)
//	  META                        magic, format version, journal id, created time
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
// new version (a cursor's old version is kept as <name>.prev).
//
// All integers are little-endian. Every small file starts with the same
// 16-byte header: an 8-byte ASCII magic, a uint32 format version (1) and a
// CRC32C (Castagnoli) of the whole file with the CRC field itself left out.
//
// # META (48 bytes)
//
//	 0       8       12      16                              32          40          48
//	+-------+-------+-------+-------------------------------+-----------+-----------+
//	|"brookJNL"|ver |  crc  |      journal id (16 random)   |created ns | reserved 0|
//	+-------+-------+-------+-------------------------------+-----------+-----------+
//
// # Segment file
//
// A segment starts with a 48-byte header followed by records back to back.
// Segments are created as <name>.tmp with the header, fsynced, renamed and the
// directory fsynced, so a segment that exists has a whole header. A segment is
// sealed when the next one is created; before that it is fsynced and its index
// file written, so every sealed segment is durable.
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
//	|  length   |  crc32c   |   flags   | reserved 0|    absolute offset    |  timestamp (unix ns)  |
//	+-----------+-----------+-----------+-----------+-----------------------+-----------------------+
//	|  payload (length bytes) ...                         | zero padding to a multiple of 8         |
//	+-----------------------------------------------------+-----------------------------------------+
//
// The fields:
//
//   - length: payload bytes, at most 2^28 (checked before anything is read
//     or allocated; a length running past the end of the file is damage).
//   - crc32c: Castagnoli CRC of the length word followed by everything after
//     the CRC field: flags, reserved, offset, timestamp, payload and padding.
//     (The length is covered too: a flipped low bit would otherwise change the
//     payload length without changing the padded size.)
//   - flags: bit 0 = multipart, bit 2 = gap; all other bits are reserved and
//     must be zero (bit 1 is set aside for a future compressed encoding and
//     rejected by this version), and multipart and gap exclude each other.
//     The reserved word must be zero.
//   - offset: the record's absolute offset. Offsets are gapless: a record's
//     offset is its predecessor's plus one and a segment's first record has
//     the segment's base offset. Readers and recovery check it, which catches
//     stale or misplaced data that happens to have a valid CRC.
//   - timestamp: time of the append, made non-decreasing by the writer.
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
// # CLEAN (40 bytes)
//
//	 0       8       12      16          24             32             40
//	+-------+-------+-------+-----------+--------------+--------------+
//	|"brookCLN"|ver |  crc  |next offset|last seg base |last seg size |
//	+-------+-------+-------+-----------+--------------+--------------+
//
// Written by Close after everything is fsynced and the last segment's index
// file is written; removed together with that index file (which appends
// would make stale) and the directory fsynced by the next writer's Open
// before it appends anything.
//
// # Cursor file (cursors/<name>)
//
//	 0       8       12      16          24      28      32
//	+-------+-------+-------+-----------+-------+-------+------------------------------------+
//	|"brookCUR"|ver |  crc  | ack floor | count |   0   | count x { lo uint64, hi uint64 }   |
//	+-------+-------+-------+-----------+-------+-------+------------------------------------+
//
// Every offset below the floor is acknowledged, and so is every offset in the
// half-open ranges [lo, hi), which are sorted, disjoint and above the floor.
// The file is rewritten atomically (the old copy renamed to <name>.prev
// first); at most WithMaxAckRanges ranges are kept, the ones nearest the
// floor, so an overflow only causes redelivery. Persisted values are clipped
// to the durable end.
//
// # Writing and group commit
//
// Append assigns the next offset and encodes the record into the pending
// batch under a mutex. One writer goroutine takes the whole batch, writes it
// with one pwrite(2) per segment touched and, in Group mode, one fdatasync,
// then publishes the new ends and wakes every waiter; the next batch builds
// up while it syncs. Always serialises appenders, and each writes and
// fdatasyncs its own record on its own goroutine (under the same lock as the
// writer goroutine), so there is one record per fdatasync and no hand-off
// between goroutines on the way. A segment rolls when the next record would take it over the
// segment size (a record larger than a whole segment is refused) or, with
// WithSegmentAge, when it is older than that age.
//
// # Recovery (Open)
//
//  1. Take the lock (not for ReadOnly), read META, delete *.tmp files, list
//     the segments, check each header.
//  2. Sealed segments: load the index file if it checks out (see above),
//     else verify every record and rebuild it. A damaged record or a broken
//     offset chain in a sealed segment is corruption.
//  3. Last segment: with a CLEAN marker matching its size and a valid index,
//     verify only the records after the last index entry; otherwise verify
//     every record from the header. Each record is checked for length bounds,
//     reserved bits, CRC and expected offset.
//  4. At the first failure at byte P of the last segment: if no verifiable
//     record with an offset at or above the expected one starts at any
//     aligned position after P, it is a torn tail: bytes [P, end) are copied
//     to lost/, the segment is truncated at P and fsynced. Otherwise it is
//     corruption.
//  5. Corruption fails Open with a *CorruptError{Segment, Offset, Pos} unless
//     a repair policy was chosen; both verify every segment (index files are
//     not trusted). RepairTruncate cuts the journal at the first damage (the
//     rest of that segment and all later segments go to lost/). RepairSkip
//     replaces each damaged region with a gap record and keeps what follows.
//  6. Remove CLEAN, load cursors (falling back to <name>.prev, then to the
//     oldest record, when a file is damaged or missing), clamp any cursor
//     past the end, apply retention.
//
// Open only scans the last segment: sealed segments were fsynced when sealed.
// Log.Verify (and `mqjournal verify`) reads every record of every segment.
// The torn-tail rule is conservative: if a power loss persisted pages of the
// unacknowledged tail out of order, leaving a verifiable record after a
// damaged one, Open reports corruption rather than guessing; RepairTruncate
// then cuts at the first damaged record (RepairSkip would keep the later
// records behind a gap). The same happens if a torn record's payload itself
// holds a whole encoded record (a journal of journal records) whose offset
// is plausible there. A ReadOnly Open changes nothing: its view simply ends
// before a torn or damaged tail (reported in Recovery); it keeps reading
// segments it has open after the writer's retention deletes them, and starts
// after any that were deleted before it opened them.
//
// # File system
//
// Every disk operation goes through the FS interface (OSFS by default), so
// tests substitute an implementation that injects ENOSPC, fsync and rename
// errors or simulates a power loss that drops or tears unsynced data.
//
// # Retention
//
// Retention deletes whole sealed segments, oldest first: while the journal
// exceeds WithRetainBytes, while the oldest segment's newest record is older
// than WithRetainAge, and while every cursor's persisted floor is past the
// segment (WithRetainConsumed). It runs at Open, after each roll and on
// EnforceRetention. A Reader positioned in a deleted segment finishes it; a
// Reader asking for a deleted offset gets ErrOutOfRange.
package durable
