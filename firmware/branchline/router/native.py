"""NativeRouter: the C core (native/router.c) through the cffi extension.

CPython only; importing this module raises ImportError when the extension is not built,
which is how branchline.router falls back to the twin.

The per-call wrapper is thin on purpose: the C core validates every argument, cffi
range-checks the ints on the way in (OverflowError, TypeError), and both become EINVAL
here, exactly as the twin answers an event that does not fit bl_event.
"""

import struct

from branchline.router._bl_router import ffi, lib
from branchline.router.base import Config, RouterBase
from branchline.router.codes import EINVAL, NO_QUEUE, NONE, OUT_MISSED_BREAK, OUT_OFFER
from branchline.router.errors import CorruptSnapshot, check

# bl_output as the C core writes it: conv, agent, kind, queue (native order, no padding).
OUTPUT = struct.Struct("=IHBB")
assert ffi.sizeof("bl_output") == OUTPUT.size

_BAD_INT = (OverflowError, TypeError)

_QUERY = (
    lib.bl_router_queue_length,
    lib.bl_router_agent_load,
    lib.bl_router_agent_presence,
    lib.bl_router_agent_reason,
    lib.bl_router_agent_state,
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


def output_tuple(conv, agent, kind, queue):
    """A bl_output's fields (in struct order) as the (kind, conv, agent, queue) tuple
    of the Python interface, None where the kind has no value."""
    return (
        kind,
        None if kind >= OUT_MISSED_BREAK else conv,
        None if agent == NONE else agent,
        None if queue == NO_QUEUE else queue,
    )


def _stepper(r, out, cap):
    """NativeRouter.step for router r writing to out: one blx_step call per event."""
    blx_step = lib.blx_step
    view = memoryview(ffi.buffer(out))
    size = OUTPUT.size
    unpack_one = OUTPUT.unpack_from
    unpack_all = OUTPUT.iter_unpack

    def step(op, a, b, c, now_ms, d=0):
        try:
            v = blx_step(r, op, a, b, c, now_ms, d, out, cap)
        except _BAD_INT:
            return EINVAL, []
        # v = n * 16 + rc + 8 (see build_router.py)
        if v < 16:
            return v - 8, []
        if v < 32:
            conv, agent, kind, queue = unpack_one(view)
            if kind == OUT_OFFER and queue != NO_QUEUE:  # the usual one: every field set
                return v - 24, [(kind, conv, agent, queue)]
            return v - 24, [output_tuple(conv, agent, kind, queue)]
        return (v & 15) - 8, [
            (kind, None if kind >= OUT_MISSED_BREAK else conv, None if agent == NONE else agent,
             None if queue == NO_QUEUE else queue)  # output_tuple's, inline: per output
            for conv, agent, kind, queue in unpack_all(view[: (v >> 4) * size])]

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
        self._due = ffi.new("int64_t *")
        # Room for the most one event can write, so that step() always drains fully.
        self._max_out = lib.bl_router_max_outputs(c)
        self._out = ffi.new("bl_output[]", self._max_out)
        self.step = self._step = _stepper(self._r, self._out, self._max_out)

    # -- primitives (see base.py) ---------------------------------------------------------
    def step(self, op, a, b, c, now_ms, d=0):
        """One C call: apply the event, then drain: (rc, outputs).

        _start() shadows this with _stepper()'s closure, the same code with its lookups
        done once (this is the per-event hot path)."""
        return self._step(op, a, b, c, now_ms, d)

    def max_outputs(self):
        return self._max_out

    def _query(self, which, x):
        return _QUERY[which](self._r, x)

    def _next_due_raw(self):
        lib.bl_router_next_due(self._r, self._due)
        return self._due[0]

    def _backup_due_raw(self, after_ms):
        lib.bl_router_backup_due(self._r, after_ms, self._due)
        return self._due[0]

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
