"""The router's snapshot codec, twin side: native/router_snapshot.c in Python.

Portable. The layout is docs/router.md's; encode() and decode() read and write a
TwinRouter's fields directly (they are its serialisation, kept apart from the routing
rules), and must give and accept exactly the bytes the C codec does.
"""

import struct

from branchline.router.base import Config, _I64_MIN
from branchline.router.codes import (
    ABANDONED,
    ACTIVE,
    ECORRUPT,
    MANUAL,
    MAX_CAP,
    MAX_HELD,
    NO_QUEUE,
    NONE,
    OFFERED,
    REMOTE,
    SNAPSHOT_VERSION,
    WAITING,
    WRAPUP,
)
from branchline.router.errors import CorruptSnapshot, InvalidArgument
from branchline.router.record import Conv, before

_HEADER = 33  # magic, version, flags, length (12) + the config (21)


def encode(r):
    """The snapshot blob of TwinRouter r (bl_router_snapshot)."""
    cfg = r.cfg
    parts = [
        b"BLRS",
        struct.pack(
            "<HHIHHHHIIIBQ",
            SNAPSHOT_VERSION,
            0,
            0,
            cfg.n_queues,
            cfg.n_agents,
            cfg.queue_capacity,
            cfg.max_convs,
            cfg.offer_timeout_ms,
            cfg.rejoin_ms,
            cfg.private_ms,
            cfg.max_misses,
            r._next_seq,
        ),
    ]
    for q in range(r._nq):
        parts.append(
            struct.pack(
                "<BBHIII",
                r._strategy[q],
                r._overflow_q[q],
                r._rr_last[q],
                r._backup_after[q],
                r._overflow_after[q],
                r._max_wait[q],
            )
        )
        _put_list(parts, r._q[q])
    for a in range(r._na):
        parts.append(
            struct.pack(
                "<BBBBHIIIqqB",
                r._presence[a],
                r._cap[a],
                r._misses[a],
                r._wrap_manual[a],
                r._reason[a],
                r._primary[a],
                r._backup[a],
                r._wrap_ms[a],
                r._last_change[a],
                r._wrap_until[a],
                len(r._held[a]),
            )
        )
        for c in r._held[a]:
            parts.append(_pack_conv(c))
        _put_list(parts, r._priv[a])
    _put_list(parts, r._remote)
    _put_list(parts, r._tombs)
    blob = bytearray(b"".join(parts))
    n = len(blob) + 4
    blob[8:12] = struct.pack("<I", n)
    blob.extend(struct.pack("<I", crc32(blob)))
    return bytes(blob)


def decode(r, blob):
    """Fill a fresh TwinRouter r (made with the blob's config) from the blob: True, or
    False when the contents are inconsistent (the header was checked by
    snapshot_config)."""
    try:
        return _restore_body(r, _Reader(blob, _HEADER))
    except (IndexError, ValueError, struct.error, KeyError):
        return False


def _get_conv(r, rd):
    cid, prio, key, seq, t, agent, queue, state, priv = rd.take("<IIqQqHBBB")
    if (
        queue >= r._nq
        or priv > 1
        or seq >= r._next_seq
        or (agent != NONE and agent >= r._na)
        or cid in r._convs
        or len(r._convs) >= r.cfg.max_convs
    ):
        return None
    c = Conv(cid, prio, key, seq)
    c.t = t
    c.agent = agent
    c.queue = queue
    c.state = state
    c.priv = priv
    r._convs[cid] = c
    return c


def _get_list(r, rd, state, ordered):
    (n,) = rd.take("<H")
    out = []
    for _ in range(n):
        c = _get_conv(r, rd)
        if c is None or c.state != state or (ordered and out and not before(out[-1], c)):
            return None
        out.append(c)
    return out


def _restore_body(r, rd):
    (r._next_seq,) = rd.take("<Q")
    for q in range(r._nq):
        strategy, oq, rr, ba, oa, mw = rd.take("<BBHIII")
        if strategy > MANUAL or (oq != NO_QUEUE and (oq >= r._nq or oq == q)) or (
            rr != NONE and rr >= r._na
        ):
            return False
        r._strategy[q] = strategy
        r._overflow_q[q] = oq
        r._rr_last[q] = rr
        r._backup_after[q] = ba
        r._overflow_after[q] = oa
        r._max_wait[q] = mw
        lst = _get_list(r, rd, WAITING, True)
        if lst is None:
            return False
        for c in lst:
            if c.priv or c.queue != q or c.agent != NONE:
                return False
        r._q[q] = lst
    for q in range(r._nq):
        if r._overflow_q[q] != NO_QUEUE and r._makes_cycle(q, r._overflow_q[q]):
            return False
    mask = (1 << r._nq) - 1
    for a in range(r._na):
        (presence, cap, misses, manual, reason, primary, backup, wrap_ms, last, until,
         n_held) = rd.take("<BBBBHIIIqqB")
        if (
            presence > WRAPUP
            or not 1 <= cap <= MAX_CAP
            or manual > 1
            or (primary | backup) & ~mask
            or primary & backup
            or n_held > MAX_HELD
        ):
            return False
        r._presence[a] = presence
        r._cap[a] = cap
        r._misses[a] = misses
        r._wrap_manual[a] = manual
        r._reason[a] = reason
        r._primary[a] = primary
        r._backup[a] = backup
        r._wrap_ms[a] = wrap_ms
        r._last_change[a] = last
        r._wrap_until[a] = until
        for q in range(r._nq):
            if primary >> q & 1:
                r._primary_by[q] |= 1 << a
            if backup >> q & 1:
                r._backup_by[q] |= 1 << a
        for _ in range(n_held):
            c = _get_conv(r, rd)
            if c is None or c.agent != a or (c.state != OFFERED and c.state != ACTIVE):
                return False
            r._held[a].append(c)
        lst = _get_list(r, rd, WAITING, True)
        if lst is None:
            return False
        for c in lst:
            if not c.priv or c.agent != a:
                return False
        r._priv[a] = lst
        r._refresh_ready(a)
    lst = _get_list(r, rd, REMOTE, False)
    if lst is None:
        return False
    for c in lst:
        if c.priv or c.agent != NONE:
            return False
    r._remote = lst
    lst = _get_list(r, rd, ABANDONED, False)
    if lst is None:
        return False
    for c in lst:
        if (c.agent == NONE) != (c.priv == 0):
            return False
    r._tombs = lst
    if rd.pos != len(rd.blob) - 4:
        return False
    r._next_due = _I64_MIN
    return True

_CONV = "<IIqQqHBBB"


def _pack_conv(c):
    return struct.pack(_CONV, c.id, c.prio, c.key, c.seq, c.t, c.agent, c.queue, c.state, c.priv)


def _put_list(parts, lst):
    parts.append(struct.pack("<H", len(lst)))
    for c in lst:
        parts.append(_pack_conv(c))


class _Reader:
    def __init__(self, blob, pos):
        self.blob = blob
        self.pos = pos

    def take(self, fmt):
        n = struct.calcsize(fmt)
        if self.pos + n > len(self.blob) - 4:
            raise ValueError("short blob")
        got = struct.unpack_from(fmt, self.blob, self.pos)
        self.pos += n
        return got


_CRC_TABLE = None


def crc32(data):
    """CRC-32 (IEEE 802.3, as zlib), table-driven; MicroPython has no portable one."""
    global _CRC_TABLE
    if _CRC_TABLE is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ (0xEDB88320 if c & 1 else 0)
            table.append(c)
        _CRC_TABLE = table
    table = _CRC_TABLE
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def snapshot_config(blob):
    """The Config stored in a snapshot blob (checks magic, version, length, CRC)."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 37 or blob[:4] != b"BLRS":
        raise CorruptSnapshot("snapshot: bad magic or length (rc=%d)" % ECORRUPT)
    version, flags, total = struct.unpack_from("<HHI", blob, 4)
    (want,) = struct.unpack_from("<I", blob, len(blob) - 4)
    if version != SNAPSHOT_VERSION or flags != 0 or total != len(blob) or crc32(
        memoryview(blob)[: len(blob) - 4]
    ) != want:
        raise CorruptSnapshot("snapshot: bad version, length or checksum (rc=%d)" % ECORRUPT)
    fields = struct.unpack_from("<HHHHIIIB", blob, 12)
    if fields[3] == 0:
        raise CorruptSnapshot("snapshot: bad config (rc=%d)" % ECORRUPT)
    try:
        return Config(*fields)
    except InvalidArgument:
        raise CorruptSnapshot("snapshot: bad config (rc=%d)" % ECORRUPT)
