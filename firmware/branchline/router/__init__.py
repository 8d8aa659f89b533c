"""The router: queues, agents, skills, strategies, timers, snapshots (see docs/router.md).

`Router` is the C core: through cffi when the extension is built (CPython), or as the
`blrouter` user C module on a MicroPython built with it (native/micropython/); else the
pure-Python twin. All present the same interface, raise the same exceptions and write
the same snapshot bytes.
"""

from branchline.router.codes import (  # noqa: F401
    ABANDONED,
    ACTIVE,
    AVAILABLE,
    BREAK,
    FEWEST_ACTIVE,
    LONGEST_IDLE,
    MANUAL,
    NEVER,
    NO_QUEUE,
    OFFERED,
    OFFLINE,
    OP_ABANDON,
    OP_ACCEPT,
    OP_ASSIGN,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_ENQUEUE_PRIVATE,
    OP_NEXT,
    OP_PRESENCE,
    OP_REJOIN,
    OP_RELEASE,
    OP_SET_MAX_WAIT,
    OP_SET_QUEUE,
    OP_SET_WRAPUP,
    OP_TICK,
    OP_TRANSFER_AGENT,
    OP_TRANSFER_QUEUE,
    OP_UPSTREAM,
    ORDERED,
    OUT_EXPIRED,
    OUT_FORGOTTEN,
    OUT_MISSED_BREAK,
    OUT_OFFER,
    OUT_OFFER_TIMEOUT,
    OUT_OVERFLOW,
    OUT_PRIVATE_TIMEOUT,
    OUT_RETURNED,
    OUT_WRAPUP_END,
    REASON_MISSED,
    REMOTE,
    ROUND_ROBIN,
    WAITING,
    WRAPUP,
)
from branchline.router.errors import (  # noqa: F401
    AlreadyExists,
    CorruptSnapshot,
    InvalidArgument,
    NotHeld,
    QueueFull,
    RouterError,
    WrongState,
)

try:
    from branchline.router.native import NativeRouter as Router
except ImportError:  # MicroPython, or the cffi extension is not built
    try:
        from branchline.router.mp_native import MpNativeRouter as Router
    except ImportError:  # a MicroPython built without the blrouter module
        from branchline.router.twin import TwinRouter as Router


def __getattr__(name):
    # The twin is imported only when asked for: beside the C router it would cost an
    # ESP32 5 KB of heap for nothing.
    if name == "TwinRouter":
        from branchline.router.twin import TwinRouter

        return TwinRouter
    raise AttributeError(name)
