"""TwinRouter: the router core in pure Python, behaving exactly like native/router.c.

MicroPython-compatible: flat preallocated lists and bytearrays sized at construction
(queue q's ring is _conv/_seq/_enq_ms[q*capacity : (q+1)*capacity], agent a's active
slots are _active[a*MAX_CAP : (a+1)*MAX_CAP]), and the same bitmasks as the C struct.

One deliberate difference: sequence numbers are unbounded ints here and wrap at 2^32 in
C. C compares them modulo 2^32, which gives the true order because fewer than 2^31
conversations are ever queued at once, so both pick the same head.
"""

import sys

from branchline.router.base import RouterBase, check_config
from branchline.router.codes import (
    AVAILABLE,
    BREAK,
    EFULL,
    EINVAL,
    ENOENT,
    MAX_CAP,
    OK,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
)


class TwinRouter(RouterBase):
    def __init__(self, n_queues, n_agents, queue_capacity):
        check_config(n_queues, n_agents, queue_capacity)
        self._nq = n_queues
        self._na = n_agents
        self._qcap = queue_capacity
        slots = n_queues * queue_capacity
        self._conv = [0] * slots
        self._seq = [0] * slots
        self._enq_ms = [0] * slots  # as bl_slot.enq_ms: recorded for wait-time queries
        self._head = [0] * n_queues
        self._count = [0] * n_queues
        self._next_seq = 0
        self._served_by = [0] * n_queues  # bit a <=> agent a has skill q
        self._ready = 0  # bit a <=> agent a AVAILABLE and n_active < cap
        self._presence = bytearray(n_agents)  # all OFFLINE
        self._cap = bytearray(b"\x01" * n_agents)
        self._n_active = bytearray(n_agents)
        self._skills = [0] * n_agents
        self._last_change = [0] * n_agents
        self._active = [0] * (n_agents * MAX_CAP)
        self.state_bytes = _shallow_size(self)

    def _refresh_ready(self, a):
        bit = 1 << a
        if self._presence[a] == AVAILABLE and self._n_active[a] < self._cap[a]:
            self._ready |= bit
        else:
            self._ready &= ~bit

    def _apply(self, op, a, b, c, now_ms):
        if op == OP_ENQUEUE:
            return self._enqueue(a, b, now_ms)
        if op == OP_COMPLETE:
            return self._complete(a, b, now_ms)
        if op == OP_PRESENCE:
            return self._set_presence(a, b, now_ms)
        if op == OP_CONFIGURE:
            return self._configure(a, b, c)
        return EINVAL

    def _configure(self, a, cap, skills):
        if a >= self._na or not 1 <= cap <= MAX_CAP or skills >> self._nq:
            return EINVAL
        self._cap[a] = cap
        self._skills[a] = skills
        bit = 1 << a
        served_by = self._served_by
        for q in range(self._nq):
            if skills >> q & 1:
                served_by[q] |= bit
            else:
                served_by[q] &= ~bit
        self._refresh_ready(a)
        return OK

    def _set_presence(self, a, presence, now_ms):
        if a >= self._na or presence > BREAK:
            return EINVAL
        if presence == AVAILABLE and self._presence[a] != AVAILABLE:
            self._last_change[a] = now_ms
        self._presence[a] = presence
        self._refresh_ready(a)
        return OK

    def _enqueue(self, q, conv, now_ms):
        if q >= self._nq:
            return EINVAL
        n = self._count[q]
        if n == self._qcap:
            return EFULL
        i = q * self._qcap + (self._head[q] + n) % self._qcap
        self._conv[i] = conv
        self._seq[i] = self._next_seq
        self._enq_ms[i] = now_ms
        self._next_seq += 1
        self._count[q] = n + 1
        return OK

    def _next(self, now_ms):
        ready = self._ready
        if not ready:
            return None
        count = self._count
        served_by = self._served_by
        qcap = self._qcap
        best_q = -1
        best_seq = 0
        for q in range(self._nq):
            if count[q] and served_by[q] & ready:
                s = self._seq[q * qcap + self._head[q]]
                if best_q < 0 or s < best_seq:
                    best_q = q
                    best_seq = s
        if best_q < 0:
            return None
        a = self._pick_agent(served_by[best_q] & ready)
        head = self._head[best_q]
        conv = self._conv[best_q * qcap + head]
        k = self._n_active[a]
        self._active[a * MAX_CAP + k] = conv
        self._n_active[a] = k + 1
        self._last_change[a] = now_ms
        self._refresh_ready(a)
        self._head[best_q] = (head + 1) % qcap
        count[best_q] -= 1
        return conv, a

    def _pick_agent(self, mask):
        # Fewest active, then longest idle, then lowest index (ascending scan, strict <).
        n_active = self._n_active
        last = self._last_change
        best = -1
        a = 0
        while mask:
            if mask & 1 and (
                best < 0
                or n_active[a] < n_active[best]
                or (n_active[a] == n_active[best] and last[a] < last[best])
            ):
                best = a
            mask >>= 1
            a += 1
        return best

    def _complete(self, a, conv, now_ms):
        if a >= self._na:
            return EINVAL
        base = a * MAX_CAP
        n = self._n_active[a]
        active = self._active
        for i in range(base, base + n):
            if active[i] == conv:
                # Shift, not swap: active slots stay in assignment order, as in C.
                for j in range(i, base + n - 1):
                    active[j] = active[j + 1]
                self._n_active[a] = n - 1
                self._last_change[a] = now_ms
                self._refresh_ready(a)
                return OK
        return ENOENT

    def _queue_length(self, q):
        return self._count[q] if q < self._nq else EINVAL

    def _agent_load(self, a):
        return self._n_active[a] if a < self._na else EINVAL

    def _agent_presence(self, a):
        return self._presence[a] if a < self._na else EINVAL


def _shallow_size(router):
    """Bytes of the twin's containers (CPython's sys.getsizeof; None where absent).

    Shallow: the list storage, not the int objects above the small-int cache.
    """
    size = getattr(sys, "getsizeof", None)
    if size is None:
        return None
    return sum(size(v) for v in router.__dict__.values() if isinstance(v, (list, bytearray)))
