"""The router bench's batch path: bl_router_run over a packed bl_event array.

Nothing in the product runs batches (the core steps one event at a time), so this lives
with the bench: BatchRouter is a NativeRouter that also takes a pre-packed event array
to bl_router_run, and returns the outputs still packed as the C core wrote them.
"""

import struct
from array import array
from itertools import starmap

from branchline.router._bl_router import ffi, lib
from branchline.router.native import OUTPUT, NativeRouter, output_tuple


def _struct_for(ctype, fields):
    """A struct.Struct with ctype's C layout (padding taken from the compiler's offsets)."""
    fmt = "="
    pos = 0
    for name, code in fields:
        offset = ffi.offsetof(ctype, name)
        fmt += "%dx%s" % (offset - pos, code)
        pos = offset + struct.calcsize("=" + code)
    return struct.Struct(fmt + "%dx" % (ffi.sizeof(ctype) - pos))


EVENT = _struct_for(
    "bl_event",
    (("op", "B"), ("a", "H"), ("b", "I"), ("c", "I"), ("d", "I"), ("now_ms", "q")),
)

_ZERO_RCS = array("i", [0])
assert _ZERO_RCS.itemsize == 4  # bl_router_run writes int32_t rcs straight into it


def _pack_one(ev):
    # Tuples are (op, a, b, c, now_ms) or (op, a, b, c, now_ms, d); bl_event has d first.
    if len(ev) == 5:
        return EVENT.pack(ev[0], ev[1], ev[2], ev[3], 0, ev[4])
    op, a, b, c, now_ms, d = ev
    return EVENT.pack(op, a, b, c, d, now_ms)


def pack_events(events):
    """A C array of bl_event for run_packed (struct.error if an event does not fit)."""
    packed = b"".join([_pack_one(ev) for ev in events])
    n = len(events)
    evs = ffi.new("bl_event[]", max(n, 1))
    ffi.memmove(evs, packed, len(packed))
    return evs, n


class Outputs:
    """The outputs of a batch, kept as the packed bl_output array the C core wrote and
    decoded only when read: a read-only sequence of (kind, conv, agent, queue) tuples."""

    __slots__ = ("_buf", "_n")

    def __init__(self, buf):
        self._buf = buf
        self._n = len(buf) // OUTPUT.size

    def __len__(self):
        return self._n

    def __iter__(self):
        return starmap(output_tuple, OUTPUT.iter_unpack(self._buf))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("output index out of range")
        return output_tuple(*OUTPUT.unpack_from(self._buf, i * OUTPUT.size))

    def __eq__(self, other):
        return list(self) == list(other)

    def __repr__(self):
        return "Outputs(%r)" % list(self)


class BatchRouter(NativeRouter):
    def _start(self, cfg, blob):
        super()._start(cfg, blob)
        # bl_router_run stops short of an event when fewer than the bound remain: room
        # for several events' worst case, so that each call runs long.
        self._run_cap = 4 * self.max_outputs()
        self._run_out = ffi.new("bl_output[]", self._run_cap)
        self._run_view = memoryview(ffi.buffer(self._run_out))
        self._n_out = ffi.new("size_t *")

    def run_packed(self, evs, n):
        """bl_router_run over a pack_events() array: (array('i') of rcs, Outputs)."""
        rcs = _ZERO_RCS * n
        rc_ptr = ffi.from_buffer("int32_t[]", rcs) if n else ffi.NULL
        packed = bytearray()
        done = 0
        run = lib.bl_router_run
        r = self._r
        out = self._run_out
        cap = self._run_cap
        view = self._run_view
        n_out = self._n_out
        size = OUTPUT.size
        while done < n:  # each call consumes at least one event
            done += run(r, evs + done, n - done, out, cap, n_out, rc_ptr + done)
            packed += view[: n_out[0] * size]
        return rcs, Outputs(bytes(packed))
