"""NativeRouter: the C core (native/router.c) through the cffi extension.

CPython only; importing this module raises ImportError when the extension is not built,
which is how branchline.router falls back to the twin.
"""

import struct

from branchline.router._bl_router import ffi, lib
from branchline.router.base import RouterBase, check_config, event_fits
from branchline.router.codes import EINVAL, OK
from branchline.router.errors import check

# Room for every assignment a drain can possibly produce (each takes one of the agents'
# active slots), so step() and run() always drain completely, like the twin: a smaller
# buffer would leave assignments pending across events and change later choices.
_MAX_PENDING = lib.BL_MAX_AGENTS * lib.BL_MAX_CAP
_RUN_OUT_CAP = 4096
assert _RUN_OUT_CAP >= _MAX_PENDING + lib.BL_MAX_ASSIGN_PER_EVENT


def _struct_for(ctype, fields):
    """A struct.Struct with ctype's C layout (padding taken from the compiler's offsets).

    Packing a whole batch with struct and unpacking results with iter_unpack is several
    times faster than touching cffi struct fields one by one.
    """
    fmt = "="
    pos = 0
    for name, code in fields:
        offset = ffi.offsetof(ctype, name)
        fmt += "%dx%s" % (offset - pos, code)
        pos = offset + struct.calcsize("=" + code)
    return struct.Struct(fmt + "%dx" % (ffi.sizeof(ctype) - pos))


_EVENT = _struct_for("bl_event", (("op", "B"), ("a", "H"), ("b", "I"), ("c", "I"), ("now_ms", "q")))
_ASSIGNMENT = _struct_for("bl_assignment", (("conv", "I"), ("agent", "H")))


class NativeRouter(RouterBase):
    def __init__(self, n_queues, n_agents, queue_capacity):
        check_config(n_queues, n_agents, queue_capacity)
        cfg = ffi.new("bl_router_cfg *", (n_queues, n_agents, queue_capacity))
        size = lib.bl_router_mem_size(cfg)
        self._mem = ffi.new("char[]", size)  # must live as long as the router
        self._r = ffi.new("bl_router *")
        check(
            lib.bl_router_init(self._r, self._mem, size, cfg),
            "Router",
            (n_queues, n_agents, queue_capacity),
        )
        self.state_bytes = ffi.sizeof("bl_router") + size
        # One event and the output buffers, reused by every call; the buffer views let
        # struct read and write them without going through cffi field by field.
        self._ev = ffi.new("bl_event *")
        self._ev_view = ffi.buffer(self._ev)
        self._conv = ffi.new("uint32_t *")
        self._agent = ffi.new("uint16_t *")
        self._n_out = ffi.new("size_t *")
        self._out = ffi.new("bl_assignment[]", _MAX_PENDING)
        self._out_view = memoryview(ffi.buffer(self._out))
        self._run_out = ffi.new("bl_assignment[]", _RUN_OUT_CAP)
        self._run_out_view = memoryview(ffi.buffer(self._run_out))

    def _apply(self, op, a, b, c, now_ms):
        _EVENT.pack_into(self._ev_view, 0, op, a, b, c, now_ms)
        return lib.bl_router_apply(self._r, self._ev)

    def _next(self, now_ms):
        if lib.bl_router_next_assignment(self._r, now_ms, self._conv, self._agent) == OK:
            return self._conv[0], self._agent[0]
        return None

    def _queue_length(self, q):
        return lib.bl_router_queue_length(self._r, q)

    def _agent_load(self, a):
        return lib.bl_router_agent_load(self._r, a)

    def _agent_presence(self, a):
        return lib.bl_router_agent_presence(self._r, a)

    def step(self, op, a, b, c, now_ms):
        # One C call per event (bl_router_step) instead of the base's apply + drain loop;
        # struct's range and type checks stand in for event_fits().
        try:
            _EVENT.pack_into(self._ev_view, 0, op, a, b, c, now_ms)
        except struct.error:
            return EINVAL, []
        rc = lib.bl_router_step(self._r, self._ev, self._out, _MAX_PENDING, self._n_out)
        n = self._n_out[0]
        if n == 0:
            return rc, []
        return rc, list(_ASSIGNMENT.iter_unpack(self._out_view[: n * _ASSIGNMENT.size]))

    def run(self, events):
        """One bl_router_run over the packed events (more if the output buffer fills)."""
        rcs = []
        out = []
        try:
            self._run_all(events, rcs, out)
        except struct.error:  # a field out of range or not an int (or a malformed tuple)
            return self._run_split(events)
        return rcs, out

    def _run_all(self, events, rcs, out):
        """Pack (raising struct.error before any state changes), run, append to rcs and out."""
        pack = _EVENT.pack
        packed = b"".join([pack(*ev) for ev in events])
        n = len(events)
        evs = ffi.new("bl_event[]", n)  # a copy, for bl_event's alignment
        ffi.memmove(evs, packed, len(packed))
        rc_buf = ffi.new("int32_t[]", n)
        done = 0
        # Each call consumes at least one event: _run_out always has room for one.
        while done < n:
            done += lib.bl_router_run(
                self._r,
                evs + done,
                n - done,
                self._run_out,
                _RUN_OUT_CAP,
                self._n_out,
                rc_buf + done,
            )
            out.extend(
                _ASSIGNMENT.iter_unpack(self._run_out_view[: self._n_out[0] * _ASSIGNMENT.size])
            )
        rcs.extend(ffi.unpack(rc_buf, n))

    def _run_split(self, events):
        # Some event does not fit bl_event: run the representable stretches in C and
        # answer the others EINVAL without a drain, exactly as step() does.
        rcs = []
        out = []
        stretch = []
        for ev in events:
            if event_fits(*ev):
                stretch.append(ev)
                continue
            self._run_all(stretch, rcs, out)
            stretch = []
            rcs.append(EINVAL)
        self._run_all(stretch, rcs, out)
        return rcs, out
