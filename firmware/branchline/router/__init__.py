"""The router: queue rings, agent table, deterministic assignment (see native/router.h).

`Router` is the C core through cffi when the extension is built (CPython), else the
pure-Python twin (MicroPython, or a CPython without the extension). Both present the
same interface and raise the same exceptions.
"""

from branchline.router.codes import (  # noqa: F401
    AVAILABLE,
    BREAK,
    OFFLINE,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
)
from branchline.router.errors import InvalidArgument, NotHeld, QueueFull, RouterError  # noqa: F401
from branchline.router.twin import TwinRouter

try:
    from branchline.router.native import NativeRouter

    Router = NativeRouter
except ImportError:  # MicroPython, or the cffi extension is not built
    Router = TwinRouter
