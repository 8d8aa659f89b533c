"""NativeRouter: the C core (native/router.c) through the cffi extension.

CPython only; importing this module raises ImportError when the extension is not built,
which is how branchline.router falls back to the twin.

The per-call wrapper is thin on purpose: the C core validates every argument, cffi
range-checks the ints on the way in (OverflowError, TypeError), and both become EINVAL
here, exactly as the twin answers an event that does not fit bl_event.
"""

import struct
from array import array

from branchline.router._bl_router import ffi, lib
from branchline.router.base import Config, RouterBase, event_fits
from branchline.router.codes import EINVAL, OK
from branchline.router.errors import CorruptSnapshot, InvalidArgument, check

# Room for every assignment one event can make (its own plus every free agent slot), so
# step() always drains completely, like the twin.
_STEP_CAP = lib.BL_MAX_ASSIGN_PER_EVENT
_RUN_OUT_CAP = 8192
assert _RUN_OUT_CAP >= 2 * lib.BL_MAX_ASSIGN_PER_EVENT

_BAD_INT = (OverflowError, TypeError)


def _struct_for(ctype, fields):
    """A struct.Struct with ctype's C layout (padding taken from the compiler's offsets)."""
    fmt = "="
    pos = 0
    for name, code in fields:
        offset = ffi.offsetof(ctype, name)
        fmt += "%dx%s" % (offset - pos, code)
        pos = offset + struct.calcsize("=" + code)
    return struct.Struct(fmt + "%dx" % (ffi.sizeof(ctype) - pos))


_EVENT = _struct_for(
    "bl_event",
    (("op", "B"), ("a", "H"), ("b", "I"), ("c", "I"), ("d", "I"), ("now_ms", "q")),
)
_ASSIGNMENT = _struct_for("bl_assignment", (("conv", "I"), ("agent", "H")))
_QUERY = (
    lib.bl_router_queue_length,
    lib.bl_router_agent_load,
    lib.bl_router_agent_presence,
    lib.bl_router_agent_reason,
    lib.bl_router_conv_state,
    lib.bl_router_conv_queue,
    lib.bl_router_conv_agent,
    lib.bl_router_position,
)
_CFG_FIELDS = (
    "n_queues",
    "n_agents",
    "queue_capacity",
    "max_convs",
    "offer_timeout_ms",
    "rejoin_ms",
    "private_ms",
    "max_misses",
)


_ZERO_RCS = array("i", [0])
assert _ZERO_RCS.itemsize == 4  # bl_router_run writes int32_t rcs straight into it


class Assignments:
    """The (conv, agent) pairs of a batch, kept as the packed bl_assignment array the
    C core wrote and decoded only when read: a read-only sequence of tuples."""

    __slots__ = ("_buf", "_n")

    def __init__(self, buf):
        self._buf = buf
        self._n = len(buf) // _ASSIGNMENT.size

    def __len__(self):
        return self._n

    def __iter__(self):
        return _ASSIGNMENT.iter_unpack(self._buf)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("assignment index out of range")
        return _ASSIGNMENT.unpack_from(self._buf, i * _ASSIGNMENT.size)

    def __eq__(self, other):
        return list(self) == list(other)

    def __repr__(self):
        return "Assignments(%r)" % list(self)


def _pack_one(ev):
    # Tuples are (op, a, b, c, now_ms) or (op, a, b, c, now_ms, d); bl_event has d first.
    if len(ev) == 5:
        return _EVENT.pack(ev[0], ev[1], ev[2], ev[3], 0, ev[4])
    op, a, b, c, now_ms, d = ev
    return _EVENT.pack(op, a, b, c, d, now_ms)


def pack_events(events):
    """A C array of bl_event for run_packed (struct.error if an event does not fit)."""
    packed = b"".join([_pack_one(ev) for ev in events])
    n = len(events)
    evs = ffi.new("bl_event[]", max(n, 1))
    ffi.memmove(evs, packed, len(packed))
    return evs, n


def _stepper(r, out):
    """NativeRouter.step for router r writing to out: one blx_step call per event."""
    blx_step = lib.blx_step
    view = memoryview(ffi.buffer(out))
    size = _ASSIGNMENT.size
    unpack_one = _ASSIGNMENT.unpack_from
    unpack_all = _ASSIGNMENT.iter_unpack

    def step(op, a, b, c, now_ms, d=0):
        try:
            v = blx_step(r, op, a, b, c, now_ms, d, out, _STEP_CAP)
        except _BAD_INT:
            return EINVAL, []
        # v = n * 16 + rc + 8 (see build_router.py)
        if v < 16:
            return v - 8, []
        if v < 32:
            return v - 24, [unpack_one(view)]
        return (v & 15) - 8, list(unpack_all(view[: (v >> 4) * size]))

    return step


class NativeRouter(RouterBase):
    def __init__(self, n_queues, n_agents, queue_capacity, **options):
        self._start(Config(n_queues, n_agents, queue_capacity, **options), None)

    def _start(self, cfg, blob):
        self.cfg = cfg
        c = ffi.new("bl_router_cfg *")
        for name in _CFG_FIELDS:
            setattr(c, name, getattr(cfg, name))
        size = lib.bl_router_mem_size(c)
        self._mem = ffi.new("char[]", size)  # must live as long as the router
        self._r = ffi.new("bl_router *")
        if blob is None:
            check(lib.bl_router_init(self._r, self._mem, size, c), "Router", cfg.fields)
        else:
            check(lib.bl_router_restore(self._r, self._mem, size, blob, len(blob)), "restore", ())
        self.state_bytes = ffi.sizeof("bl_router") + size
        self._conv = ffi.new("uint32_t *")
        self._agent = ffi.new("uint16_t *")
        self._n_out = ffi.new("size_t *")
        self._out = ffi.new("bl_assignment[]", _STEP_CAP)
        self.step = self._step = _stepper(self._r, self._out)
        self._run_out = ffi.new("bl_assignment[]", _RUN_OUT_CAP)
        self._run_out_view = memoryview(ffi.buffer(self._run_out))

    # -- primitives (see base.py) ---------------------------------------------------------
    def _event(self, op, a, b, c, d, now_ms):
        try:
            return lib.blx_apply(self._r, op, a, b, c, d, now_ms)
        except _BAD_INT:
            return EINVAL

    def _take(self, agent, now_ms):
        try:
            rc = lib.bl_router_take_next(self._r, agent, now_ms, self._conv)
        except _BAD_INT:
            return EINVAL, None
        return rc, (self._conv[0] if rc == OK else None)

    def _next(self, now_ms):
        try:
            rc = lib.bl_router_next_assignment(self._r, now_ms, self._conv, self._agent)
        except _BAD_INT:
            raise InvalidArgument("next_assignment(%r) failed (rc=%d)" % (now_ms, EINVAL))
        if rc == OK:
            return self._conv[0], self._agent[0]
        return None

    def _query(self, which, x):
        return _QUERY[which](self._r, x)

    def _next_due_raw(self):
        due = ffi.new("int64_t *")
        lib.bl_router_next_due(self._r, due)
        return due[0]

    def step(self, op, a, b, c, now_ms, d=0):
        """One C call: apply the event, then drain: (rc, [(conv, agent), ...]).

        _start() shadows this with _stepper()'s closure, the same code with its lookups
        done once (this is the per-event hot path)."""
        return self._step(op, a, b, c, now_ms, d)

    # -- batches --------------------------------------------------------------------------
    def run(self, events):
        """step() over (op, a, b, c, now_ms[, d]) tuples in bl_router_run calls."""
        try:
            evs, n = pack_events(events)
        except (struct.error, ValueError, TypeError):  # a field out of range / not an int
            return self._run_split(events)
        rcs, out = self.run_packed(evs, n)
        return list(rcs), list(out)

    def run_packed(self, evs, n):
        """bl_router_run over a pack_events() array: (array('i') of rcs, Assignments).

        The assignments stay packed as the C core wrote them; Assignments decodes a
        (conv, agent) tuple when one is read (list(out) gives them all).
        """
        rcs = _ZERO_RCS * n
        rc_ptr = ffi.from_buffer("int32_t[]", rcs) if n else ffi.NULL
        packed = bytearray()
        done = 0
        run = lib.bl_router_run
        r = self._r
        run_out = self._run_out
        view = self._run_out_view
        n_out = self._n_out
        size = _ASSIGNMENT.size
        while done < n:  # each call consumes at least one event
            done += run(r, evs + done, n - done, run_out, _RUN_OUT_CAP, n_out, rc_ptr + done)
            packed += view[: n_out[0] * size]
        return rcs, Assignments(bytes(packed))

    def _run_split(self, events):
        # Some event does not fit bl_event: run the representable stretches in C and
        # answer the others EINVAL without a drain, exactly as step() does.
        rcs = []
        out = []
        stretch = []
        for ev in events:
            if len(ev) in (5, 6) and event_fits(*ev):
                stretch.append(ev)
                continue
            if stretch:
                got_rcs, got = self.run(stretch)
                rcs.extend(got_rcs)
                out.extend(got)
            stretch = []
            rcs.append(EINVAL)
        if stretch:
            got_rcs, got = self.run(stretch)
            rcs.extend(got_rcs)
            out.extend(got)
        return rcs, out

    # -- snapshot ---------------------------------------------------------------------------
    def snapshot(self):
        n = lib.bl_router_snapshot_size(self._r)
        buf = ffi.new("uint8_t[]", n)
        if lib.bl_router_snapshot(self._r, buf, n) != n:
            raise RuntimeError("bl_router_snapshot failed")
        return bytes(ffi.buffer(buf, n))

    @classmethod
    def restore(cls, blob):
        """A router in exactly the state the blob was taken in (CorruptSnapshot if bad)."""
        if not isinstance(blob, (bytes, bytearray)):
            raise CorruptSnapshot("restore: want bytes, got %r" % type(blob).__name__)
        blob = bytes(blob)
        c = ffi.new("bl_router_cfg *")
        check(lib.bl_router_snapshot_cfg(blob, len(blob), c), "restore", ())
        self = cls.__new__(cls)
        self._start(Config(*[getattr(c, name) for name in _CFG_FIELDS]), blob)
        return self
