"""Numbers shared with the C core: keep in step with native/router.h.

Portable (CPython and MicroPython); both router implementations and their callers
use these names rather than literals.
"""

from branchline.compat import const

# Return codes.
OK = const(0)
EINVAL = const(-1)
EFULL = const(-2)
ENOENT = const(-3)
EEXIST = const(-4)
EEMPTY = const(-5)

# Presence.
OFFLINE = const(0)
AVAILABLE = const(1)
BREAK = const(2)

# Event ops (0 is deliberately not one).
OP_CONFIGURE = const(1)
OP_PRESENCE = const(2)
OP_ENQUEUE = const(3)
OP_COMPLETE = const(4)

# Limits.
MAX_QUEUES = const(32)
MAX_AGENTS = const(64)
MAX_CAP = const(3)
MAX_QUEUE_CAPACITY = const(0xFFFF)
