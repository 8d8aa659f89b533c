"""The state folder's files: snapshots of the whole state and the journal segments
after them, and which of them a start needs. Portable: the adapters do the I/O.

A snapshot `snapshot-<n>.bin` is the state after the first n journal records;
the segment `journal-<n>.bin` holds the records from number n on. A new snapshot is
written at a segment boundary, so start-up is: the newest snapshot that reads back
intact, then every segment from its number on. Older files leave once a newer
snapshot is durable, but the one before it is kept with its segments, so that a
snapshot torn by a power cut (or damaged since) falls back to the previous one and
loses nothing.

Segments a start no longer needs are not deleted but moved to the archive folder as
`archive/journal-<n>-<until>.bin` (`until`: the branch's time in ms when they left the
live set): they are the record of closed conversations, kept for `retention_days`
and, when the disk ceiling is reached, the first thing to go, oldest first. Open work
and unacknowledged outboxes live in the snapshot and the live segments, which the
archive never touches.

Snapshot file: "BLSN" | u16 format version | u16 event schema | u64 records | u32
payload length | u32 CRC-32 of the payload | payload (the state in core/jsonfmt's
encoding). Little-endian.
"""

import struct
from binascii import crc32

from branchline.core import jsonfmt

MAGIC = b"BLSN"
# The header's and the state's layout. A snapshot of another version is not read: the
# previous one is tried, and without one start-up replays the archive from record 0.
VERSION = 6  # 2: the SMS outbox's sent parts in a SentParts ring; 3: the service layer;
# 4: a conversation's thread flat, its times after its start; 5: the wallboard's day
# series and desks' presence times; 6: desks' offers and panel press numbers
_HEADER = "<4sHHQII"
HEADER_SIZE = struct.calcsize(_HEADER)
SNAPSHOT_PREFIX = "snapshot-"
SEGMENT_PREFIX = "journal-"
SUFFIX = ".bin"
DIGITS = 12  # record numbers in names: zero-padded, so names sort as numbers do
LEGACY_JOURNAL = "journal.bin"  # the one-file journal of earlier releases: segment 0
ARCHIVE_DIR = "archive"
UNTIL_DIGITS = 13  # ms since 1970 until the year 2286


class SnapshotError(ValueError):
    """A snapshot that does not read back (the message says why)."""


def write(state, schema, records, f):
    """Write the snapshot of `state` to the binary file `f` (open for writing, at its
    start) without holding it whole: the payload streamed, its length and CRC in the
    header once known. -> the bytes written."""
    f.write(b"\0" * HEADER_SIZE)
    totals = [0, 0]  # payload length, CRC so far

    def out(data):
        totals[0] += len(data)
        totals[1] = crc32(data, totals[1])
        f.write(data)

    jsonfmt.write(state, out)
    f.seek(0)
    f.write(struct.pack(_HEADER, MAGIC, VERSION, schema, records, totals[0],
                        totals[1] & 0xFFFFFFFF))
    return HEADER_SIZE + totals[0]


def decode(blob):
    """-> (records, schema, state) of an intact snapshot; SnapshotError otherwise."""
    import json

    if len(blob) < HEADER_SIZE:
        raise SnapshotError("shorter than its header (%d bytes)" % len(blob))
    magic, version, schema, records, length, crc = struct.unpack_from(_HEADER, blob, 0)
    if magic != MAGIC or version != VERSION:
        raise SnapshotError("not a version %d snapshot" % VERSION)
    payload = bytes(blob[HEADER_SIZE:])
    if len(payload) != length:
        raise SnapshotError("torn: %d of %d payload bytes" % (len(payload), length))
    if crc32(payload) & 0xFFFFFFFF != crc:
        raise SnapshotError("CRC mismatch")
    try:
        return records, schema, json.loads(payload)
    except ValueError:
        raise SnapshotError("payload is not JSON")


def name(prefix, records):
    return "%s%0*d%s" % (prefix, DIGITS, records, SUFFIX)


def _digits(text, n):
    if len(text) != n or not all("0" <= c <= "9" for c in text):
        return None
    return int(text)


def number(filename, prefix):
    """The record number in a snapshot or segment file name, or None for another file."""
    if not (filename.startswith(prefix) and filename.endswith(SUFFIX)):
        return None
    return _digits(filename[len(prefix):-len(SUFFIX)], DIGITS)


def archived_name(records, until):
    """The archive's name for segment `records`, which left the live set at `until`."""
    return "%s%0*d-%0*d%s" % (SEGMENT_PREFIX, DIGITS, records, UNTIL_DIGITS, until, SUFFIX)


def archive_listing(filenames):
    """-> [(until, records, filename)] of the archive folder's segments, oldest first."""
    out = []
    for f in filenames:
        if not (f.startswith(SEGMENT_PREFIX) and f.endswith(SUFFIX)):
            continue
        parts = f[len(SEGMENT_PREFIX):-len(SUFFIX)].split("-")
        if len(parts) != 2:
            continue
        records = _digits(parts[0], DIGITS)
        until = _digits(parts[1], UNTIL_DIGITS)
        if records is not None and until is not None:
            out.append((until, records, f))
    return sorted(out)


def past_retention(archived, now, retention_days):
    """The archived segments (archive_listing's) older than `retention_days` at `now`."""
    cutoff = now - retention_days * 86400000
    return [entry for entry in archived if entry[0] < cutoff]


def listing(filenames):
    """-> (snapshot numbers newest first, segment numbers oldest first) of a folder."""
    snapshots = []
    segments = []
    for f in filenames:
        n = number(f, SNAPSHOT_PREFIX)
        if n is not None:
            snapshots.append(n)
        n = number(f, SEGMENT_PREFIX)
        if n is not None:
            segments.append(n)
    return sorted(snapshots, reverse=True), sorted(segments)


def segments_from(segments, records):
    """The segments a start from a snapshot of `records` replays: the one it falls in
    (a snapshot is normally at a segment's start, but need not be) and all after."""
    start = 0
    for n in segments:
        if n <= records:
            start = n
    return [n for n in segments if n >= start]


def obsolete(snapshots, segments, kept):
    """What a folder no longer needs once snapshot `kept` is durable: -> (snapshot
    files to delete: those older than the one before it; segment numbers to archive:
    those only they needed)."""
    older = [n for n in snapshots if n < kept]
    fallback = max(older) if older else 0
    gone = [name(SNAPSHOT_PREFIX, n) for n in older if n != fallback]
    needed = segments_from(segments, fallback)
    return gone, [n for n in segments if n not in needed]
