"""Journal record format: the append-only log that is the appliance's source of truth.

A record is `<len:u32 LE><crc32:u32 LE><payload>` and the payload is one JSON object (an
event: see core/branch.py) in the one encoding of core/jsonfmt.py, so that the same
events give the same bytes (and CRCs) on every runtime. The CRC covers the payload. A power cut can leave a torn
record at the end; `scan` stops at the first record that is short or fails its CRC and
says where the good part ends, so the adapter truncates the tail and appends after it.
Storage (files, flash) is the adapters' business: this module only frames bytes.
"""

import json
import struct

from branchline.compat import const
from branchline.core import jsonfmt

try:
    from binascii import crc32
except ImportError:  # pragma: no cover - every supported runtime has binascii.crc32
    from zlib import crc32

HEADER = const(8)
MAX_RECORD = const(65536)


class JournalError(ValueError):
    pass


def encode(event):
    payload = jsonfmt.encode(event)
    if len(payload) > MAX_RECORD:
        raise JournalError("record of %d bytes exceeds %d" % (len(payload), MAX_RECORD))
    return struct.pack("<II", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


def _record_at(data, pos):
    """(event, end) for the intact record at `pos`, else (None, why not)."""
    size = len(data)
    if size - pos < HEADER:
        return None, "torn header at offset %d" % pos
    length, crc = struct.unpack_from("<II", data, pos)
    if length > MAX_RECORD:
        return None, "impossible length %d at offset %d" % (length, pos)
    end = pos + HEADER + length
    if end > size:
        return None, "torn record at offset %d" % pos
    payload = data[pos + HEADER : end]
    if crc32(payload) & 0xFFFFFFFF != crc:
        return None, "CRC mismatch at offset %d" % pos
    try:
        # jsonfmt writes UTF-8 (a lone surrogate as U+FFFD): decoding it first spares
        # json.loads guessing the encoding of every record.
        return json.loads(payload.decode()), end
    except ValueError:  # UnicodeError is one too
        return None, "record at offset %d is not JSON" % pos


def scan(data):
    """Decode the records in `data`: returns (events, good_length, problem).

    `good_length` is the offset after the last intact record; `problem` is None when the
    whole buffer was intact, else the reason scanning stopped there.
    """
    events = []
    pos = 0
    while pos < len(data):
        event, end = _record_at(data, pos)
        if event is None:
            return events, pos, end
        events.append(event)
        pos = end
    return events, pos, None


def salvage(data, start):
    """The intact records after damage that begins at `start`, resynchronising byte by
    byte on the next offset where a whole record with a good CRC begins.

    Returns (events, skipped) with skipped = [(from, to), ...] byte ranges. For damage
    in the middle of a journal: what was written (and acknowledged) after it must not be
    thrown away with it.
    """
    events = []
    skipped = []
    bad_from = None
    pos = start
    while pos < len(data):
        event, end = _record_at(data, pos)
        if event is None:
            if bad_from is None:
                bad_from = pos
            pos += 1
            continue
        if bad_from is not None:
            skipped.append((bad_from, pos))
            bad_from = None
        events.append(event)
        pos = end
    if bad_from is not None:
        skipped.append((bad_from, len(data)))
    return events, skipped
