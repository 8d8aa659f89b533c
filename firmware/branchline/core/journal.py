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
BATCH = const(256)  # records decoded by one json.loads: bounded, for an ESP32's heap


class JournalError(ValueError):
    pass


def encode(event):
    payload = jsonfmt.encode(event)
    if len(payload) > MAX_RECORD:
        raise JournalError("record of %d bytes exceeds %d" % (len(payload), MAX_RECORD))
    return struct.pack("<II", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


def _payload_at(data, pos):
    """(payload, end) for the record at `pos` whose length and CRC are intact, else
    (None, why not)."""
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
    return payload, end


def _decode(payload):
    # jsonfmt writes UTF-8 (a lone surrogate as U+FFFD): decoding it first spares
    # json.loads guessing the encoding.
    return json.loads(payload.decode())


def _record_at(data, pos):
    """(event, end) for the intact record at `pos`, else (None, why not)."""
    payload, end = _payload_at(data, pos)
    if payload is None:
        return None, end
    try:
        return _decode(payload), end
    except ValueError:  # UnicodeError is one too
        return None, "record at offset %d is not JSON" % pos


def _decode_batch(batch, events):
    """Decode the (offset, payload) of `batch` into `events`: one json.loads for the
    lot (a call per record costs a third of a replay's decoding). -> None, or the
    offset of the first record that is not a JSON object. A payload that does not look
    like one object, or a lot that does not split back into one object per record, is
    decoded record by record instead."""
    payloads = [p for _pos, p in batch]
    lot = None
    for p in payloads:  # loops, not all(...): a generator's step costs a call
        if p[:1] != b"{" or p[-1:] != b"}":
            break
    else:
        try:
            lot = _decode(b"[" + b",".join(payloads) + b"]")
        except ValueError:
            lot = None
    if lot is not None and len(lot) == len(batch):
        for e in lot:
            if not isinstance(e, dict):
                break
        else:
            events.extend(lot)
            return None
    for pos, payload in batch:
        try:
            events.append(_decode(payload))
        except ValueError:
            return pos
    return None


def scan(data):
    """Decode the records in `data`: returns (events, good_length, problem).

    `good_length` is the offset after the last intact record; `problem` is None when the
    whole buffer was intact, else the reason scanning stopped there.
    """
    events = []
    batch = []
    pos = 0
    problem = None
    while pos < len(data):
        payload, end = _payload_at(data, pos)
        if payload is None:
            problem = end
            break
        batch.append((pos, payload))
        pos = end
        if len(batch) == BATCH:
            bad = _decode_batch(batch, events)
            batch = []
            if bad is not None:
                return events, bad, "record at offset %d is not JSON" % bad
    bad = _decode_batch(batch, events) if batch else None
    if bad is not None:
        return events, bad, "record at offset %d is not JSON" % bad
    return events, pos, problem


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
