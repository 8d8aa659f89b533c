"""What NativeRouter and TwinRouter share: the public methods, argument mapping, run.

Portable. Every mutating method is one router event (op, a, b, c, d, now_ms), exactly
the bl_event the C core takes, applied and drained by step(), so both routers see the
same arguments and give the same answers; each returns the event's outputs, a list of
(kind, conv, agent, queue) tuples (docs/router.md, "Outputs"). A subclass provides:
    step(op, a, b, c, now_ms, d=0) -> (rc, outputs)   bl_router_step; EINVAL (and no
                                   outputs) when a field does not fit bl_event
                                   (u8, u16, u32 x3, i64)
    max_outputs() -> int           bl_router_max_outputs of the router's config
    _query(which, x) -> value or rc                  one of QUERIES
    _next_due_raw() -> int64                         bl_router_next_due
    _backup_due_raw(after_ms) -> int64 or rc         bl_router_backup_due
    snapshot() -> bytes ; restore(blob) (classmethod) -> router
"""

from branchline.router.codes import (
    EEMPTY,
    EINVAL,
    ENOENT,
    LONGEST_IDLE,
    MAX_AGENTS,
    MAX_CONVS,
    MAX_QUEUE_CAPACITY,
    MAX_QUEUES,
    NEVER,
    NO_QUEUE,
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
)
from branchline.router.errors import InvalidArgument, check

_U8 = 0xFF
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
# Not const(): MicroPython's const() is for small ints.
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1

# Query names, in the order of the `which` numbers both routers use.
QUERIES = (
    "queue_length",
    "agent_load",
    "agent_presence",
    "agent_reason",
    "agent_state",
    "conv_state",
    "conv_queue",
    "conv_agent",
    "position",
)
_U16_QUERIES = 5  # the first five take a queue/agent index (u16), the rest a conv (u32)


def _fits(v, hi):
    return isinstance(v, int) and 0 <= v <= hi


def _fits_i64(v):
    return isinstance(v, int) and _I64_MIN <= v <= _I64_MAX


def event_fits(op, a, b, c, now_ms, d=0):
    """True when the fields fit bl_event (uint8, uint16, uint32 x3, int64)."""
    return (
        _fits(op, _U8)
        and _fits(a, _U16)
        and _fits(b, _U32)
        and _fits(c, _U32)
        and _fits(d, _U32)
        and _fits_i64(now_ms)
    )


def query_fits(which, x):
    return _fits(x, _U16 if which < _U16_QUERIES else _U32)


def _flag(v):
    return 1 if v else 0


class Config:
    """The router's configuration (bl_router_cfg); max_convs 0 means the default size."""

    def __init__(
        self,
        n_queues,
        n_agents,
        queue_capacity,
        max_convs=0,
        offer_timeout_ms=0,
        rejoin_ms=0,
        private_ms=0,
        max_misses=0,
    ):
        self.fields = (
            n_queues,
            n_agents,
            queue_capacity,
            max_convs,
            offer_timeout_ms,
            rejoin_ms,
            private_ms,
            max_misses,
        )
        ok = (
            _fits(n_queues, MAX_QUEUES)
            and n_queues >= 1
            and _fits(n_agents, MAX_AGENTS)
            and n_agents >= 1
            and _fits(queue_capacity, MAX_QUEUE_CAPACITY)
            and queue_capacity >= 1
            and _fits(max_convs, MAX_CONVS)
            and _fits(offer_timeout_ms, _U32)
            and _fits(rejoin_ms, _U32)
            and _fits(private_ms, _U32)
            and _fits(max_misses, _U8)
        )
        if not ok:
            raise InvalidArgument(
                "Router(n_queues=%r, n_agents=%r, queue_capacity=%r, max_convs=%r, "
                "offer_timeout_ms=%r, rejoin_ms=%r, private_ms=%r, max_misses=%r): want "
                "1..%d queues, 1..%d agents, capacity 1..%d, max_convs 0..%d, "
                "32-bit times, max_misses 0..255" % (self.fields + (
                    MAX_QUEUES, MAX_AGENTS, MAX_QUEUE_CAPACITY, MAX_CONVS))
            )
        if max_convs == 0:
            max_convs = min(n_queues * queue_capacity + n_agents * 4, MAX_CONVS)
        self.n_queues = n_queues
        self.n_agents = n_agents
        self.queue_capacity = queue_capacity
        self.max_convs = max_convs
        self.offer_timeout_ms = offer_timeout_ms
        self.rejoin_ms = rejoin_ms
        self.private_ms = private_ms
        self.max_misses = max_misses


class RouterBase:
    """Router(n_queues, n_agents, queue_capacity, **options); see docs/router.md.

    Every mutating method returns the outputs of its event; on a failure it raises the
    RouterError subclass of the rc, whose `outputs` are the event's outputs all the same.
    """

    def _call(self, name, op, a, b, c, d, now_ms, args):
        rc, out = self.step(op, a, b, c, now_ms, d)
        if rc < 0:
            check(rc, name, args, out)
        return out

    # -- configuration -----------------------------------------------------------------
    def configure_agent(self, agent, cap, skills, backup=0, now_ms=0):
        """Cap 1..3; skills (primary) and backup: disjoint bit masks of queues."""
        return self._call(
            "configure_agent", OP_CONFIGURE, agent, cap, skills, backup, now_ms,
            (agent, cap, skills, backup, now_ms),
        )

    def set_queue(
        self,
        queue,
        strategy=LONGEST_IDLE,
        overflow_queue=NO_QUEUE,
        backup_after_ms=NEVER,
        overflow_after_ms=NEVER,
        now_ms=0,
    ):
        args = (queue, strategy, overflow_queue, backup_after_ms, overflow_after_ms, now_ms)
        if not (_fits(strategy, _U8) and _fits(overflow_queue, _U8)):
            check(EINVAL, "set_queue", args)
        return self._call(
            "set_queue", OP_SET_QUEUE, queue, strategy | overflow_queue << 8,
            backup_after_ms, overflow_after_ms, now_ms, args,
        )

    def set_wrapup(self, agent, wrap_ms, manual=False, now_ms=0):
        """After each completion: wrap_ms of wrap-up, or (manual) until AVAILABLE."""
        return self._call(
            "set_wrapup", OP_SET_WRAPUP, agent, wrap_ms, _flag(manual), 0, now_ms,
            (agent, wrap_ms, manual, now_ms),
        )

    # -- agents --------------------------------------------------------------------------
    def set_max_wait(self, queue, max_wait_ms, now_ms=0):
        """A conversation waiting in the queue (not a private one) whose score (waiting
        time plus priority credit) reaches max_wait_ms is abandoned (EXPIRED); NEVER: off."""
        return self._call(
            "set_max_wait", OP_SET_MAX_WAIT, queue, max_wait_ms, 0, 0, now_ms,
            (queue, max_wait_ms, now_ms),
        )

    def set_presence(self, agent, presence, now_ms, reason=0):
        return self._call(
            "set_presence", OP_PRESENCE, agent, presence, reason, 0, now_ms,
            (agent, presence, now_ms, reason),
        )

    def accept(self, agent, conv, now_ms):
        """The agent took up an offered conversation (accept, or its first reply)."""
        return self._call("accept", OP_ACCEPT, agent, conv, 0, 0, now_ms, (agent, conv, now_ms))

    def complete(self, agent, conv, now_ms):
        return self._call(
            "complete", OP_COMPLETE, agent, conv, 0, 0, now_ms, (agent, conv, now_ms)
        )

    def take_next(self, agent, now_ms):
        """Manual pick ("next"). The outputs, like every method's: the conversation taken
        is the first OFFER among them (the timers before it make no offers); there is none
        when nothing waits that the agent may serve (not an error)."""
        rc, out = self.step(OP_NEXT, agent, 0, 0, now_ms)
        if rc < 0 and rc != EEMPTY:
            check(rc, "take_next", (agent, now_ms), out)
        return out

    # -- conversations ---------------------------------------------------------------------
    def enqueue(self, queue, conv, now_ms, priority=0):
        return self._call(
            "enqueue", OP_ENQUEUE, queue, conv, priority, 0, now_ms,
            (queue, conv, now_ms, priority),
        )

    def enqueue_private(self, agent, conv, home_queue, now_ms, priority=0):
        return self._call(
            "enqueue_private", OP_ENQUEUE_PRIVATE, agent, conv, priority, home_queue, now_ms,
            (agent, conv, home_queue, now_ms, priority),
        )

    def abandon(self, conv, now_ms):
        return self._call("abandon", OP_ABANDON, 0, conv, 0, 0, now_ms, (conv, now_ms))

    def rejoin(self, conv, now_ms):
        return self._call("rejoin", OP_REJOIN, 0, conv, 0, 0, now_ms, (conv, now_ms))

    def assign(self, agent, conv, now_ms, force=False):
        return self._call(
            "assign", OP_ASSIGN, agent, conv, _flag(force), 0, now_ms,
            (agent, conv, now_ms, force),
        )

    def transfer_to_agent(self, agent, conv, now_ms):
        return self._call(
            "transfer_to_agent", OP_TRANSFER_AGENT, agent, conv, 0, 0, now_ms,
            (agent, conv, now_ms),
        )

    def transfer_to_queue(self, queue, conv, now_ms, keep_time=True):
        return self._call(
            "transfer_to_queue", OP_TRANSFER_QUEUE, queue, conv, _flag(keep_time), 0, now_ms,
            (queue, conv, now_ms, keep_time),
        )

    def upstream(self, conv, now_ms):
        return self._call("upstream", OP_UPSTREAM, 0, conv, 0, 0, now_ms, (conv, now_ms))

    def release(self, conv, now_ms):
        return self._call("release", OP_RELEASE, 0, conv, 0, 0, now_ms, (conv, now_ms))

    def tick(self, now_ms):
        return self._call("tick", OP_TICK, 0, 0, 0, 0, now_ms, (now_ms,))

    # -- queries ---------------------------------------------------------------------------
    def _ask(self, which, x):
        # Asked several times per event (desks' LEDs and clocks): the common case first.
        rc = self._query(which, x) if query_fits(which, x) else EINVAL
        return rc if rc >= 0 else check(rc, QUERIES[which], (x,))

    def queue_length(self, queue):
        return self._ask(0, queue)

    def agent_load(self, agent):
        return self._ask(1, agent)

    def agent_presence(self, agent):
        return self._ask(2, agent)

    def agent_reason(self, agent):
        return self._ask(3, agent)

    def agent_state(self, agent):
        """(presence, conversations held, on a break for missed offers) in one query."""
        packed = self._ask(4, agent)
        return packed & 3, (packed >> 2) & 7, packed >> 5

    def conv_state(self, conv):
        """WAITING .. ABANDONED, or None for an unknown conversation."""
        rc = self._query(5, conv) if query_fits(5, conv) else EINVAL
        return None if rc == ENOENT else check(rc, "conv_state", (conv,))

    def conv_queue(self, conv):
        return self._ask(6, conv)

    def conv_agent(self, conv):
        """Holder (offered/active) or named agent (private); None when there is none."""
        got = self._ask(7, conv)
        return None if got == 0xFFFF else got

    def position(self, conv):
        """How many wait ahead of a WAITING conversation in its (private) queue."""
        return self._ask(8, conv)

    def next_due(self):
        """No timer is due before this time (ms; possibly early, never late), or None when
        none is pending: when to `tick` so that timers fire without other traffic."""
        due = self._next_due_raw()
        return None if due == _I64_MAX else due

    def backup_due(self, after_ms):
        """The earliest time (ms) strictly after after_ms at which some queue's head
        reaches its backup_after_ms score, or None: when to `tick` so that backup agents
        get a head that has waited long enough (that is no timer, so next_due omits it)."""
        if not _fits_i64(after_ms):
            check(EINVAL, "backup_due", (after_ms,))
        due = self._backup_due_raw(after_ms)
        return None if due == _I64_MAX else due

    # -- batches -----------------------------------------------------------------------------
    def run(self, events):
        """step() over (op, a, b, c, now_ms[, d]) tuples: ([rc, ...], [output, ...])."""
        rcs = []
        out = []
        for ev in events:
            rc, got = self.step(*ev)
            rcs.append(rc)
            out.extend(got)
        return rcs, out
