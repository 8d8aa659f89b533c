"""Journal record format: the append-only log that is the appliance's source of truth.

A record is `<len:u32 LE><crc32:u32 LE><payload>` and the payload is one JSON object (an
event: see core/branch.py). The CRC covers the payload. A power cut can leave a torn
record at the end; `scan` stops at the first record that is short or fails its CRC and
says where the good part ends, so the adapter truncates the tail and appends after it.
Storage (files, flash) is the adapters' business: this module only frames bytes.
"""

import json
import struct

from branchline.compat import const

try:
    from binascii import crc32
except ImportError:  # pragma: no cover - every supported runtime has binascii.crc32
    from zlib import crc32

HEADER = const(8)
MAX_RECORD = const(65536)


class JournalError(ValueError):
    pass


def encode(event):
    payload = json.dumps(event).encode()
    if len(payload) > MAX_RECORD:
        raise JournalError("record of %d bytes exceeds %d" % (len(payload), MAX_RECORD))
    return struct.pack("<II", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


def scan(data):
    """Decode the records in `data`: returns (events, good_length, problem).

    `good_length` is the offset after the last intact record; `problem` is None when the
    whole buffer was intact, else the reason scanning stopped there.
    """
    events = []
    pos = 0
    size = len(data)
    mv = memoryview(data)
    while pos < size:
        if size - pos < HEADER:
            return events, pos, "torn header at offset %d" % pos
        length, crc = struct.unpack("<II", mv[pos : pos + HEADER])
        if length > MAX_RECORD:
            return events, pos, "impossible length %d at offset %d" % (length, pos)
        end = pos + HEADER + length
        if end > size:
            return events, pos, "torn record at offset %d" % pos
        payload = bytes(mv[pos + HEADER : end])
        if crc32(payload) & 0xFFFFFFFF != crc:
            return events, pos, "CRC mismatch at offset %d" % pos
        try:
            events.append(json.loads(payload))
        except ValueError:
            return events, pos, "record at offset %d is not JSON" % pos
        pos = end
    return events, pos, None
