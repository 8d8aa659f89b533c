"""Numbers shared with the C core: keep in step with native/router.h.

Portable (CPython and MicroPython); both router implementations and their callers
use these names rather than literals. tests/unit/test_router_native.py checks that every
BL_* constant of router.h has the same value here.
"""

from branchline.compat import const

# Return codes.
OK = const(0)
EINVAL = const(-1)
EFULL = const(-2)
ENOENT = const(-3)
EEXIST = const(-4)
EEMPTY = const(-5)
ESTATE = const(-6)
ECORRUPT = const(-7)

# Presence.
OFFLINE = const(0)
AVAILABLE = const(1)
BREAK = const(2)
WRAPUP = const(3)

# Conversation states.
WAITING = const(1)
OFFERED = const(2)
ACTIVE = const(3)
REMOTE = const(4)
ABANDONED = const(5)

# Queue strategies.
LONGEST_IDLE = const(0)
FEWEST_ACTIVE = const(1)
ROUND_ROBIN = const(2)
ORDERED = const(3)
MANUAL = const(4)

# Event ops (0 is deliberately not one).
OP_CONFIGURE = const(1)
OP_PRESENCE = const(2)
OP_ENQUEUE = const(3)
OP_COMPLETE = const(4)
OP_SET_QUEUE = const(5)
OP_SET_WRAPUP = const(6)
OP_ENQUEUE_PRIVATE = const(7)
OP_ACCEPT = const(8)
OP_ABANDON = const(9)
OP_REJOIN = const(10)
OP_ASSIGN = const(11)
OP_NEXT = const(12)
OP_TRANSFER_AGENT = const(13)
OP_TRANSFER_QUEUE = const(14)
OP_UPSTREAM = const(15)
OP_RELEASE = const(16)
OP_TICK = const(17)
OP_SET_MAX_WAIT = const(18)
OP_LAST = const(18)

# Output kinds: the first field of every output tuple (docs/router.md, "Outputs").
OUT_OFFER = const(1)
OUT_RETURNED = const(2)
OUT_OFFER_TIMEOUT = const(3)
OUT_PRIVATE_TIMEOUT = const(4)
OUT_OVERFLOW = const(5)
OUT_EXPIRED = const(6)
OUT_FORGOTTEN = const(7)
OUT_MISSED_BREAK = const(8)  # this kind and the next name an agent only (conv None)
OUT_WRAPUP_END = const(9)

# Limits and sentinels.
MAX_QUEUES = const(32)
MAX_AGENTS = const(64)
MAX_CAP = const(3)
MAX_HELD = const(4)
MAX_CONVS = const(65534)
MAX_QUEUE_CAPACITY = const(0xFFFF)
NONE = const(0xFFFF)
NO_QUEUE = const(0xFF)
REASON_MISSED = const(0xFFFF)
SNAPSHOT_VERSION = const(2)
# Not const(): MicroPython's const() is for small ints (0xFFFFFFFF is not one there).
NEVER = 0xFFFFFFFF
