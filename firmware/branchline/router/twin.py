"""TwinRouter: the router core in pure Python, behaving exactly like native/router.c.

MicroPython-compatible. Where C keeps linked lists of pool records, the twin keeps
Python lists of Conv records (branchline.router.record) in the same order; every
decision, every error code and every snapshot byte is the same
(tests/unit/test_router_differential.py checks that). Each method mirrors the C function
of the same name; keep them in step. The snapshot codec is branchline.router.snapshot,
as native/router_snapshot.c is on the C side.
"""

from branchline.router.base import (
    Config,
    RouterBase,
    _I64_MAX,
    _I64_MIN,
    event_fits,
)
from branchline.router.codes import (
    ABANDONED,
    ACTIVE,
    AVAILABLE,
    BREAK,
    ECORRUPT,
    EEMPTY,
    EEXIST,
    EFULL,
    EINVAL,
    ENOENT,
    ESTATE,
    FEWEST_ACTIVE,
    MANUAL,
    MAX_CAP,
    MAX_HELD,
    NEVER,
    NO_QUEUE,
    NONE,
    OFFERED,
    OFFLINE,
    OK,
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
from branchline.router.errors import CorruptSnapshot
from branchline.router.record import Conv as _Conv
from branchline.router.record import before as _before
from branchline.router.snapshot import decode as decode_snapshot
from branchline.router.snapshot import encode as encode_snapshot
from branchline.router.snapshot import snapshot_config

_MOVABLE = (WAITING, OFFERED, ACTIVE)


def _sat_add(a, b):
    s = a + b
    return _I64_MAX if s > _I64_MAX else s


def _sat_sub(a, b):
    s = a - b
    return _I64_MIN if s < _I64_MIN else s


def _passed(end, now):
    # A deadline saturated at INT64_MAX never fires (router.c's passed()).
    return end <= now and end != _I64_MAX


def _low_bit(m):
    i = 0
    while not m & 1:
        m >>= 1
        i += 1
    return i


def _insert_sorted(lst, c):
    # From the tail, as C does (new arrivals usually go last).
    i = len(lst)
    while i > 0 and _before(c, lst[i - 1]):
        i -= 1
    lst.insert(i, c)


class TwinRouter(RouterBase):
    def __init__(self, n_queues, n_agents, queue_capacity, **options):
        self._setup(Config(n_queues, n_agents, queue_capacity, **options))

    def _setup(self, cfg):
        self.cfg = cfg
        nq = cfg.n_queues
        na = cfg.n_agents
        self._nq = nq
        self._na = na
        self._convs = {}  # id -> _Conv, every live record (tombstones and remote included)
        self._next_seq = 0
        self._next_due = _I64_MAX
        # Queues.
        self._q = [[] for _ in range(nq)]
        self._strategy = bytearray(nq)
        self._overflow_q = bytearray(b"\xff" * nq)
        self._backup_after = [NEVER] * nq
        self._overflow_after = [NEVER] * nq
        self._max_wait = [NEVER] * nq
        self._rr_last = [NONE] * nq
        self._primary_by = [0] * nq
        self._backup_by = [0] * nq
        # Agents.
        self._presence = bytearray(na)
        self._cap = bytearray(b"\x01" * na)
        self._misses = bytearray(na)
        self._wrap_manual = bytearray(na)
        self._reason = [0] * na
        self._primary = [0] * na
        self._backup = [0] * na
        self._wrap_ms = [0] * na
        self._last_change = [0] * na
        self._wrap_until = [_I64_MAX] * na
        self._held = [[] for _ in range(na)]
        self._priv = [[] for _ in range(na)]
        self._ready = 0
        self._remote = []
        self._tombs = []
        self._out = []  # the outputs of the event in step()
        self.state_bytes = None

    def max_outputs(self):
        """bl_router_max_outputs: the most outputs one step can return (router.c derives
        it)."""
        cfg = self.cfg
        return 3 * cfg.max_convs + (2 + MAX_CAP) * cfg.n_agents + MAX_HELD

    # -- helpers (router.c's static functions) -------------------------------------------------
    def _due_at(self, t):
        if t < self._next_due:
            self._next_due = t

    def _refresh_ready(self, a):
        bit = 1 << a
        if self._presence[a] == AVAILABLE and len(self._held[a]) < self._cap[a]:
            self._ready |= bit
        else:
            self._ready &= ~bit

    def _overflow_on(self, q):
        # NEVER disables the tier like NO_QUEUE.
        return self._overflow_q[q] != NO_QUEUE and self._overflow_after[q] != NEVER

    def _emit(self, kind, c, agent):
        # An output about c naming where it is now: its home queue, None when private.
        self._out.append((kind, c.id, agent, None if c.priv else c.queue))

    def _q_insert(self, q, c):
        _insert_sorted(self._q[q], c)
        if self._overflow_on(q):
            self._due_at(_sat_add(c.key, self._overflow_after[q]))
        if self._max_wait[q] != NEVER:
            self._due_at(_sat_add(c.key, self._max_wait[q]))

    def _priv_insert(self, a, c):
        _insert_sorted(self._priv[a], c)
        if self.cfg.private_ms:
            self._due_at(_sat_add(c.t, self.cfg.private_ms))

    def _release(self, c):
        del self._convs[c.id]

    def _drop_tomb(self, c):
        self._tombs.remove(c)
        self._release(c)

    def _forget_oldest(self):
        c = self._tombs[0]
        self._out.append((OUT_FORGOTTEN, c.id, None, None))
        self._drop_tomb(c)

    def _room_in_pool(self):
        if len(self._convs) < self.cfg.max_convs:
            return True
        if not self._tombs:
            return False
        self._forget_oldest()
        return True

    def _place_waiting(self, c, now):
        c.state = WAITING
        if c.priv:
            c.t = now
            self._priv_insert(c.agent, c)
        else:
            c.t = 0
            c.agent = NONE
            self._q_insert(c.queue, c)

    def _detach(self, c, now):
        st = c.state
        if st == WAITING:
            if c.priv:
                self._priv[c.agent].remove(c)
            else:
                self._q[c.queue].remove(c)
        elif st == OFFERED or st == ACTIVE:
            self._held[c.agent].remove(c)
            self._last_change[c.agent] = now
            self._refresh_ready(c.agent)
        elif st == REMOTE:
            self._remote.remove(c)
        else:
            self._tombs.remove(c)

    def _offer(self, a, c, now):
        c.state = OFFERED
        c.agent = a
        c.t = now
        self._held[a].append(c)
        self._last_change[a] = now
        self._refresh_ready(a)
        if self.cfg.offer_timeout_ms:
            self._due_at(_sat_add(now, self.cfg.offer_timeout_ms))
        self._emit(OUT_OFFER, c, a)

    def _leave(self, a, now):
        held = self._held[a]
        i = 0
        while i < len(held):
            c = held[i]
            if c.state == OFFERED:
                del held[i]
                self._place_waiting(c, now)
                self._emit(OUT_RETURNED, c, a)
            else:
                i += 1

    def _start_wrapup(self, a, now):
        self._presence[a] = WRAPUP
        self._reason[a] = 0
        if self._wrap_ms[a] and not self._wrap_manual[a]:
            self._wrap_until[a] = _sat_add(now, self._wrap_ms[a])
            self._due_at(self._wrap_until[a])
        else:
            self._wrap_until[a] = _I64_MAX

    def _bury(self, c, now):
        # A detached record becomes a tombstone for rejoin_ms (router.c's bury).
        if not self.cfg.rejoin_ms:
            self._release(c)
            return
        if not c.priv:
            c.agent = NONE
        c.state = ABANDONED
        c.t = now
        self._tombs.append(c)
        self._due_at(_sat_add(now, self.cfg.rejoin_ms))

    def _overflow_due(self, q, now):
        lst = self._q[q]
        return (
            self._overflow_on(q)
            and lst
            and _passed(_sat_add(lst[0].key, self._overflow_after[q]), now)
        )

    def _advance(self, now):
        if now < self._next_due:
            return
        self._next_due = _I64_MAX
        cfg = self.cfg
        timeout = cfg.offer_timeout_ms
        for a in range(self._na):
            if self._presence[a] == WRAPUP and self._wrap_until[a] != _I64_MAX:
                if self._wrap_until[a] <= now:
                    self._presence[a] = AVAILABLE
                    self._last_change[a] = self._wrap_until[a]
                    self._misses[a] = 0
                    self._out.append((OUT_WRAPUP_END, None, a, None))
                else:
                    self._due_at(self._wrap_until[a])
            held = self._held[a]
            i = 0
            while timeout and i < len(held):
                c = held[i]
                end = _sat_add(c.t, timeout)
                if c.state != OFFERED:
                    i += 1
                elif not _passed(end, now):
                    self._due_at(end)
                    i += 1
                else:
                    del held[i]
                    self._place_waiting(c, now)
                    self._emit(OUT_OFFER_TIMEOUT, c, a)
                    if self._misses[a] < 0xFF:
                        self._misses[a] += 1
                    if cfg.max_misses and self._misses[a] >= cfg.max_misses:
                        self._presence[a] = BREAK
                        self._reason[a] = REASON_MISSED
                        self._misses[a] = 0
                        self._out.append((OUT_MISSED_BREAK, None, a, None))
                        self._leave(a, now)
                        break
            self._refresh_ready(a)
        if cfg.private_ms:
            for a in range(self._na):
                for c in list(self._priv[a]):
                    end = _sat_add(c.t, cfg.private_ms)
                    if _passed(end, now):
                        self._priv[a].remove(c)
                        c.priv = 0
                        self._place_waiting(c, now)
                        self._emit(OUT_PRIVATE_TIMEOUT, c, a)
                    else:
                        self._due_at(end)
        for q in range(self._nq):
            while self._overflow_due(q, now):
                c = self._q[q][0]
                to = q
                while True:
                    self._q[to].remove(c)
                    to = self._overflow_q[to]
                    c.queue = to
                    self._q_insert(to, c)
                    if not (
                        self._overflow_on(to)
                        and _passed(_sat_add(c.key, self._overflow_after[to]), now)
                    ):
                        break
                self._emit(OUT_OVERFLOW, c, None)
            if self._overflow_on(q) and self._q[q]:
                self._due_at(_sat_add(self._q[q][0].key, self._overflow_after[q]))
        # After every overflow tier: an overflowed conversation is judged by the max
        # wait of the queue it landed in.
        for q in range(self._nq):
            limit = self._max_wait[q]
            lst = self._q[q]
            while limit != NEVER and lst:
                c = lst[0]
                end = _sat_add(c.key, limit)
                if not _passed(end, now):
                    self._due_at(end)
                    break
                self._emit(OUT_EXPIRED, c, None)
                del lst[0]
                self._bury(c, now)
        tombs = self._tombs
        while tombs:
            end = _sat_add(tombs[0].t, cfg.rejoin_ms)
            if not _passed(end, now):
                self._due_at(end)
                break
            self._forget_oldest()

    # -- events -----------------------------------------------------------------------------------
    def _apply(self, op, a, b, c, d, now):
        """One event (fields that fit bl_event): its rc."""
        if op == OP_ENQUEUE:
            return self._enqueue(a, b, c, now)
        if op == OP_COMPLETE:
            return self._complete(a, b, now)
        if op == OP_PRESENCE:
            if b > WRAPUP or c > 0xFFFF:
                return EINVAL
            return self._set_presence(a, b, c, now)
        if op == OP_CONFIGURE:
            return self._configure(a, b, c, d, now)
        if op == OP_ACCEPT:
            return self._accept(a, b, now)
        if op == OP_ABANDON:
            return self._abandon(b, now)
        if op == OP_REJOIN:
            return self._rejoin(b, now)
        if op == OP_ASSIGN:
            if c > 1:
                return EINVAL
            return self._assign(a, b, c, now)
        if op == OP_NEXT:
            return self._take(a, now)
        if op == OP_SET_QUEUE:
            if b > 0xFFFF:
                return EINVAL
            return self._set_queue(a, b & 0xFF, b >> 8, c, d, now)
        if op == OP_SET_WRAPUP:
            if c > 1:
                return EINVAL
            return self._set_wrapup(a, b, c, now)
        if op == OP_ENQUEUE_PRIVATE:
            if d > 0xFFFF:
                return EINVAL
            return self._enqueue_private(a, b, c, d, now)
        if op == OP_TRANSFER_AGENT:
            return self._transfer_agent(a, b, now)
        if op == OP_TRANSFER_QUEUE:
            if c > 1:
                return EINVAL
            return self._transfer_queue(a, b, c, now)
        if op == OP_UPSTREAM:
            return self._upstream(b, now)
        if op == OP_RELEASE:
            return self._release_remote(b, now)
        if op == OP_TICK:
            self._advance(now)
            return OK
        if op == OP_SET_MAX_WAIT:
            return self._set_max_wait(a, b, now)
        return EINVAL

    # -- entry prologues (router.c's enter, enter_live, enter_held) -------------------------------
    def _enter(self, ok, now):
        """False when the arguments are bad (nothing changes); else the due timers run."""
        if ok:
            self._advance(now)
        return ok

    def _enter_live(self, ok, now, conv, states):
        """_enter, then (rc, the live record of conv in one of `states`)."""
        if not self._enter(ok, now):
            return EINVAL, None
        c = self._convs.get(conv)
        if c is None:
            return ENOENT, None
        if c.state not in states:
            return ESTATE, None
        return OK, c

    def _enter_held(self, a, now, conv):
        """_enter, then (rc, the record of a conversation agent a holds)."""
        if not self._enter(a < self._na, now):
            return EINVAL, None
        c = self._convs.get(conv)
        if c is None or (c.state != OFFERED and c.state != ACTIVE) or c.agent != a:
            return ENOENT, None
        return OK, c

    def _configure(self, a, cap, primary, backup, now):
        mask = (1 << self._nq) - 1
        ok = a < self._na and 1 <= cap <= MAX_CAP and not (primary | backup) & ~mask
        if not self._enter(ok and not primary & backup, now):
            return EINVAL
        self._cap[a] = cap
        self._primary[a] = primary
        self._backup[a] = backup
        bit = 1 << a
        for q in range(self._nq):
            if primary >> q & 1:
                self._primary_by[q] |= bit
            else:
                self._primary_by[q] &= ~bit
            if backup >> q & 1:
                self._backup_by[q] |= bit
            else:
                self._backup_by[q] &= ~bit
        self._refresh_ready(a)
        return OK

    def _set_presence(self, a, p, reason, now):
        if not self._enter(a < self._na, now):
            return EINVAL
        if p == self._presence[a]:
            if p == BREAK:
                self._reason[a] = reason
            return OK
        self._reason[a] = reason if p == BREAK else 0
        if p == AVAILABLE:
            self._last_change[a] = now
            self._misses[a] = 0
        elif p == WRAPUP:
            self._start_wrapup(a, now)
        else:
            self._leave(a, now)
        self._presence[a] = p
        self._refresh_ready(a)
        return OK

    def _makes_cycle(self, q, to):
        steps = 0
        while to != NO_QUEUE and steps <= self._nq:
            if to == q:
                return True
            to = self._overflow_q[to]
            steps += 1
        return False

    def _set_queue(self, q, strategy, oq, backup_after, overflow_after, now):
        ok = q < self._nq and strategy <= MANUAL
        if not self._enter(
            ok and (oq == NO_QUEUE or (oq < self._nq and not self._makes_cycle(q, oq))), now
        ):
            return EINVAL
        self._strategy[q] = strategy
        self._overflow_q[q] = oq
        self._backup_after[q] = backup_after
        self._overflow_after[q] = overflow_after
        self._next_due = _I64_MIN
        return OK

    def _set_max_wait(self, q, max_wait, now):
        if not self._enter(q < self._nq, now):
            return EINVAL
        self._max_wait[q] = max_wait
        self._next_due = _I64_MIN
        return OK

    def _set_wrapup(self, a, wrap_ms, manual, now):
        if not self._enter(a < self._na, now):
            return EINVAL
        self._wrap_ms[a] = wrap_ms
        self._wrap_manual[a] = manual
        return OK

    def _new_record(self, conv, prio, room, now):
        """(rc, _Conv): a fresh WAITING record, as router.c's new_record."""
        old = self._convs.get(conv)
        if old is not None and old.state != ABANDONED:
            return EEXIST, None
        if not room:
            return EFULL, None
        if old is not None:
            self._drop_tomb(old)
        if not self._room_in_pool():
            return EFULL, None
        c = _Conv(conv, prio, _sat_sub(now, prio), self._next_seq)
        self._next_seq += 1
        self._convs[conv] = c
        return OK, c

    def _enqueue(self, q, conv, prio, now):
        if not self._enter(q < self._nq, now):
            return EINVAL
        rc, c = self._new_record(conv, prio, len(self._q[q]) < self.cfg.queue_capacity, now)
        if rc != OK:
            return rc
        c.queue = q
        self._q_insert(q, c)
        return OK

    def _enqueue_private(self, a, conv, prio, home, now):
        if not self._enter(a < self._na and home < self._nq, now):
            return EINVAL
        rc, c = self._new_record(conv, prio, True, now)
        if rc != OK:
            return rc
        c.queue = home
        c.priv = 1
        c.agent = a
        c.t = now
        self._priv_insert(a, c)
        return OK

    def _accept(self, a, conv, now):
        rc, c = self._enter_held(a, now, conv)
        if rc == OK and c.state == OFFERED:
            c.state = ACTIVE
            c.t = 0
            c.priv = 0
            self._misses[a] = 0
        return rc

    def _complete(self, a, conv, now):
        rc, c = self._enter_held(a, now, conv)
        if rc != OK:
            return rc
        self._held[a].remove(c)
        self._release(c)
        self._last_change[a] = now
        if (self._presence[a] == AVAILABLE or self._presence[a] == WRAPUP) and (
            self._wrap_ms[a] or self._wrap_manual[a]
        ):
            self._start_wrapup(a, now)
        self._refresh_ready(a)
        return OK

    def _abandon(self, conv, now):
        rc, c = self._enter_live(True, now, conv, (WAITING, OFFERED))
        if rc != OK:
            return rc
        self._detach(c, now)
        self._bury(c, now)
        return OK

    def _rejoin(self, conv, now):
        rc, c = self._enter_live(True, now, conv, (ABANDONED,))
        if rc != OK:
            return rc
        if not c.priv and len(self._q[c.queue]) >= self.cfg.queue_capacity:
            return EFULL
        self._tombs.remove(c)
        self._place_waiting(c, now)
        return OK

    def _assign(self, a, conv, force, now):
        rc, c = self._enter_live(a < self._na, now, conv, _MOVABLE)
        if rc != OK:
            return rc
        src = NONE if c.state == WAITING else c.agent  # the holder it is taken from
        if src == a:
            return ESTATE
        if not force and self._presence[a] == OFFLINE:
            return ESTATE
        if len(self._held[a]) >= (MAX_HELD if force else self._cap[a]):
            return EFULL
        self._detach(c, now)
        c.priv = 0
        if src != NONE:
            self._emit(OUT_RETURNED, c, src)
        self._offer(a, c, now)
        return OK

    def _backup_ok(self, q, c, now):
        t = self._backup_after[q]
        return t != NEVER and c.key <= _sat_sub(now, t)

    def _take(self, a, now):
        if not self._enter(a < self._na, now):
            return EINVAL
        if self._presence[a] != AVAILABLE:
            return ESTATE
        if len(self._held[a]) >= self._cap[a]:
            return EFULL
        best = None
        primary = self._primary[a]
        m = primary | self._backup[a]
        for q in range(self._nq):
            lst = self._q[q]
            if not (m >> q & 1) or not lst:
                continue
            h = lst[0]
            if not primary >> q & 1 and not self._backup_ok(q, h, now):
                continue
            if best is None or _before(h, best):
                best = h
        priv = self._priv[a]
        if priv and (best is None or _before(priv[0], best)):
            best = priv[0]
        if best is None:
            return EEMPTY
        self._detach(best, now)
        self._offer(a, best, now)
        return OK

    def _transfer_agent(self, a, conv, now):
        rc, c = self._enter_live(a < self._na, now, conv, _MOVABLE)
        if rc != OK:
            return rc
        if c.agent == a and (c.state != WAITING or c.priv):
            return ESTATE
        self._detach(c, now)
        c.priv = 1
        c.agent = a
        self._place_waiting(c, now)
        return OK

    def _transfer_queue(self, q, conv, keep, now):
        rc, c = self._enter_live(q < self._nq, now, conv, _MOVABLE)
        if rc != OK:
            return rc
        if len(self._q[q]) >= self.cfg.queue_capacity and not (
            c.state == WAITING and not c.priv and c.queue == q
        ):
            return EFULL
        self._detach(c, now)
        c.priv = 0
        c.queue = q
        if not keep:
            c.key = _sat_sub(now, c.prio)
            c.seq = self._next_seq
            self._next_seq += 1
        self._place_waiting(c, now)
        return OK

    def _upstream(self, conv, now):
        rc, c = self._enter_live(True, now, conv, _MOVABLE)
        if rc != OK:
            return rc
        self._detach(c, now)
        c.state = REMOTE
        c.priv = 0
        c.agent = NONE
        c.t = 0
        self._remote.append(c)
        return OK

    def _release_remote(self, conv, now):
        rc, c = self._enter_live(True, now, conv, (REMOTE,))
        if rc != OK:
            return rc
        self._remote.remove(c)
        self._release(c)
        return OK

    # -- assignment ----------------------------------------------------------------------------------
    def _pick_agent(self, q, mask):
        strategy = self._strategy[q]
        if strategy == ROUND_ROBIN:
            last = self._rr_last[q]
            after = 0
            if last != NONE and last + 1 < 64:
                after = mask & ~((1 << (last + 1)) - 1)
            best = _low_bit(after if after else mask)
            self._rr_last[q] = best
            return best
        if strategy == ORDERED:
            return _low_bit(mask)
        held = self._held
        last = self._last_change
        fewest = strategy == FEWEST_ACTIVE
        best = -1
        a = 0
        while mask:
            if mask & 1:
                if best < 0:
                    best = a
                elif fewest and len(held[a]) != len(held[best]):
                    if len(held[a]) < len(held[best]):
                        best = a
                elif last[a] < last[best]:
                    best = a
            mask >>= 1
            a += 1
        return best

    def _assign_one(self, now):
        """The assignment rule once: True when it made an offer. No timers (an event runs
        them once, before its own change)."""
        ready = self._ready
        if not ready:
            return False
        best = None
        best_q = -1
        best_a = -1
        queues = self._q
        strategy = self._strategy
        primary_by = self._primary_by
        backup_by = self._backup_by
        for q in range(self._nq):
            lst = queues[q]
            if not lst or strategy[q] == MANUAL:
                continue
            h = lst[0]
            if not (primary_by[q] & ready) and not (
                backup_by[q] & ready and self._backup_ok(q, h, now)
            ):
                continue
            if best is None or _before(h, best):
                best = h
                best_q = q
        m = ready
        a = 0
        while m:
            if m & 1:
                priv = self._priv[a]
                if priv and (best is None or _before(priv[0], best)):
                    best = priv[0]
                    best_a = a
                    best_q = -1
            m >>= 1
            a += 1
        if best is None:
            return False
        if best_q < 0:
            a = best_a
            self._priv[a].remove(best)
        else:
            elig = primary_by[best_q]
            if self._backup_ok(best_q, best, now):
                elig |= backup_by[best_q]
            a = self._pick_agent(best_q, elig & ready)
            queues[best_q].remove(best)
        self._offer(a, best, now)
        return True

    def step(self, op, a, b, c, now_ms, d=0):
        """Apply one event, then drain: (rc, outputs). Never raises for rc < 0.

        An event whose fields do not fit bl_event is rejected whole (EINVAL, no drain).
        """
        if not event_fits(op, a, b, c, now_ms, d):
            return EINVAL, []
        out = self._out = []
        rc = self._apply(op, a, b, c, d, now_ms)
        while self._assign_one(now_ms):
            pass
        return rc, out

    # -- queries -----------------------------------------------------------------------------------
    def _next_due_raw(self):
        return self._next_due

    def _backup_due_raw(self, after):
        best = _I64_MAX
        for q in range(self._nq):
            lst = self._q[q]
            limit = self._backup_after[q]
            if lst and limit != NEVER:
                t = _sat_add(lst[0].key, limit)
                if after < t < best:
                    best = t
        return best

    def _query(self, which, x):
        if which < 5:
            if which == 0:
                return len(self._q[x]) if x < self._nq else EINVAL
            if x >= self._na:
                return EINVAL
            if which == 1:
                return len(self._held[x])
            if which == 2:
                return self._presence[x]
            if which == 3:
                return self._reason[x]
            presence = self._presence[x]
            missed = presence == BREAK and self._reason[x] == REASON_MISSED
            return presence | len(self._held[x]) << 2 | (32 if missed else 0)
        c = self._convs.get(x)
        if c is None:
            return ENOENT
        if which == 5:
            return c.state
        if which == 6:
            return c.queue
        if which == 7:
            return c.agent
        if c.state != WAITING:
            return ESTATE
        lst = self._priv[c.agent] if c.priv else self._q[c.queue]
        return lst.index(c)

    # -- snapshot (the codec is branchline.router.snapshot) ---------------------------------
    def snapshot(self):
        return encode_snapshot(self)

    @classmethod
    def restore(cls, blob):
        """A router in exactly the state the blob was taken in (CorruptSnapshot if bad)."""
        cfg = snapshot_config(blob)
        # A plain construction (MicroPython has no cls.__new__ for Python classes).
        r = cls(
            cfg.n_queues,
            cfg.n_agents,
            cfg.queue_capacity,
            max_convs=cfg.max_convs,
            offer_timeout_ms=cfg.offer_timeout_ms,
            rejoin_ms=cfg.rejoin_ms,
            private_ms=cfg.private_ms,
            max_misses=cfg.max_misses,
        )
        if not decode_snapshot(r, blob):
            raise CorruptSnapshot("restore: inconsistent snapshot contents (rc=%d)" % ECORRUPT)
        return r
