"""MpNativeRouter: the C core (native/router.c) as MicroPython's user C module
`blrouter` (native/micropython/blrouter/).

MicroPython only; importing this module raises ImportError on a build without the
module, which is how branchline.router falls back to the twin. As with the cffi
binding, the C core checks every argument and the module answers a field that does not
fit bl_event with EINVAL, so this wrapper only puts the core's calls where RouterBase
looks for them.
"""

import blrouter

from branchline.router.base import Config, RouterBase
from branchline.router.errors import CorruptSnapshot, check


class MpNativeRouter(RouterBase):
    def __init__(self, n_queues, n_agents, queue_capacity, **options):
        cfg = Config(n_queues, n_agents, queue_capacity, **options)
        self._start(cfg, blrouter.new(cfg.fields), "Router", cfg.fields)

    def _start(self, cfg, core, call, args):
        if isinstance(core, int):  # the rc of bl_router_init or bl_router_restore
            check(core, call, args)
        self.cfg = cfg
        self._core = core
        # The core's bound methods themselves: step() is the per-event hot path.
        self.step = core.step
        self._query = core.query
        self._next_due_raw = core.next_due
        self._backup_due_raw = core.backup_due
        self.max_outputs = core.max_outputs
        self.snapshot = core.snapshot
        self.state_bytes = core.state_bytes()

    @classmethod
    def restore(cls, blob):
        """A router in exactly the state the blob was taken in (CorruptSnapshot if bad)."""
        if not isinstance(blob, (bytes, bytearray)):
            raise CorruptSnapshot("restore: want bytes, got %r" % type(blob).__name__)
        core = blrouter.restore(blob)
        self = object.__new__(cls)
        self._start(None if isinstance(core, int) else Config(*core.config()), core,
                    "restore", ())
        return self
