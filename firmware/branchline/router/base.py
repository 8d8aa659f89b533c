"""What NativeRouter and TwinRouter share: the public methods, argument checks, step/run.

Portable. A subclass provides the primitives below and calls them only with ints that
fit the C parameter types, so the cffi router never truncates and both routers see the
same arguments:
    _apply(op, a, b, c, now_ms) -> rc          one event, no assignment
    _next(now_ms) -> (conv, agent) or None     bl_router_next_assignment
    _queue_length(q), _agent_load(a), _agent_presence(a) -> count or EINVAL
"""

from branchline.router.codes import (
    EINVAL,
    MAX_AGENTS,
    MAX_QUEUE_CAPACITY,
    MAX_QUEUES,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
)
from branchline.router.errors import InvalidArgument, check

_U8 = 0xFF
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
# Not const(): MicroPython's const() is for small ints.
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


def _fits(v, hi):
    return isinstance(v, int) and 0 <= v <= hi


def _fits_i64(v):
    return isinstance(v, int) and _I64_MIN <= v <= _I64_MAX


def event_fits(op, a, b, c, now_ms):
    """True when the event's fields fit bl_event (uint8, uint16, uint32, uint32, int64)."""
    return (
        _fits(op, _U8)
        and _fits(a, _U16)
        and _fits(b, _U32)
        and _fits(c, _U32)
        and _fits_i64(now_ms)
    )


def check_config(n_queues, n_agents, queue_capacity):
    if not (
        isinstance(n_queues, int)
        and isinstance(n_agents, int)
        and isinstance(queue_capacity, int)
        and 1 <= n_queues <= MAX_QUEUES
        and 1 <= n_agents <= MAX_AGENTS
        and 1 <= queue_capacity <= MAX_QUEUE_CAPACITY
    ):
        raise InvalidArgument(
            "Router(n_queues=%r, n_agents=%r, queue_capacity=%r): want 1..%d, 1..%d, 1..%d"
            % (n_queues, n_agents, queue_capacity, MAX_QUEUES, MAX_AGENTS, MAX_QUEUE_CAPACITY)
        )


class RouterBase:
    """Router(n_queues, n_agents, queue_capacity); see native/router.h for the rules."""

    def _event(self, op, a, b, c, now_ms):
        if not event_fits(op, a, b, c, now_ms):
            return EINVAL
        return self._apply(op, a, b, c, now_ms)

    def configure_agent(self, agent, cap, skills):
        check(
            self._event(OP_CONFIGURE, agent, cap, skills, 0),
            "configure_agent",
            (agent, cap, skills),
        )

    def set_presence(self, agent, presence, now_ms):
        check(
            self._event(OP_PRESENCE, agent, presence, 0, now_ms),
            "set_presence",
            (agent, presence, now_ms),
        )

    def enqueue(self, queue, conv, now_ms):
        check(self._event(OP_ENQUEUE, queue, conv, 0, now_ms), "enqueue", (queue, conv, now_ms))

    def complete(self, agent, conv, now_ms):
        check(self._event(OP_COMPLETE, agent, conv, 0, now_ms), "complete", (agent, conv, now_ms))

    def next_assignment(self, now_ms):
        """(conv, agent) for the next assignment, or None when none is possible."""
        if not _fits_i64(now_ms):
            check(EINVAL, "next_assignment", (now_ms,))
        return self._next(now_ms)

    def queue_length(self, queue):
        rc = self._queue_length(queue) if _fits(queue, _U16) else EINVAL
        return check(rc, "queue_length", (queue,))

    def agent_load(self, agent):
        rc = self._agent_load(agent) if _fits(agent, _U16) else EINVAL
        return check(rc, "agent_load", (agent,))

    def agent_presence(self, agent):
        rc = self._agent_presence(agent) if _fits(agent, _U16) else EINVAL
        return check(rc, "agent_presence", (agent,))

    def step(self, op, a, b, c, now_ms):
        """Apply one event, then drain: (rc, [(conv, agent), ...]). Never raises for rc < 0.

        An event whose fields do not fit bl_event is rejected whole (EINVAL, no drain):
        there is no now_ms to drain with.
        """
        if not event_fits(op, a, b, c, now_ms):
            return EINVAL, []
        rc = self._apply(op, a, b, c, now_ms)
        out = []
        got = self._next(now_ms)
        while got is not None:
            out.append(got)
            got = self._next(now_ms)
        return rc, out

    def run(self, events):
        """step() over (op, a, b, c, now_ms) tuples: ([rc, ...], [(conv, agent), ...])."""
        rcs = []
        out = []
        for ev in events:
            rc, got = self.step(*ev)
            rcs.append(rc)
            out.extend(got)
        return rcs, out
