"""Event streams that drive a C router and the twin side by side, and the checks that
they agree on everything observable: return codes, outputs, queries and snapshot
bytes. Portable: tests/unit/test_router_differential.py feeds them from hypothesis on
CPython (cffi), test_router_core_vs_twin.py from seeded generators on every runtime
that has a C router (the blrouter module on MicroPython)."""

from branchline.router import (
    BREAK,
    NEVER,
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
    OUT_OFFER,
    REASON_MISSED,
    RouterError,
    TwinRouter,
)
from branchline.router.codes import OP_LAST

# Values just outside the C field types, and non-ints: they must be EINVAL in both.
ODD = [-1, 1 << 16, 1 << 32, 1 << 64, -(1 << 63) - 1, 1 << 63, 1.0, None]


def assert_same_state(nat, twin, n_queues, n_agents, convs=range(0, 14)):
    for q in range(n_queues):
        assert nat.queue_length(q) == twin.queue_length(q)
    for a in range(n_agents):
        assert nat.agent_load(a) == twin.agent_load(a)
        assert nat.agent_presence(a) == twin.agent_presence(a)
        assert nat.agent_reason(a) == twin.agent_reason(a)
        assert nat.agent_state(a) == twin.agent_state(a) == (
            nat.agent_presence(a), nat.agent_load(a),
            nat.agent_presence(a) == BREAK and nat.agent_reason(a) == REASON_MISSED)
    for conv in convs:
        assert nat.conv_state(conv) == twin.conv_state(conv)
        if nat.conv_state(conv) is not None:
            assert outcome(nat.position, conv) == outcome(twin.position, conv)
            assert nat.conv_agent(conv) == twin.conv_agent(conv)
            assert nat.conv_queue(conv) == twin.conv_queue(conv)
    assert nat.next_due() == twin.next_due()
    for after in (-1, 0, 100, 10000):
        assert nat.backup_due(after) == twin.backup_due(after)
    assert nat.snapshot() == twin.snapshot()


def outcome(method, *args):
    """What method(*args) returns, or the class of the RouterError it raises and the
    outputs it carries."""
    try:
        return method(*args)
    except RouterError as exc:
        return type(exc), exc.outputs


def make_event(pick, n_queues, n_agents, held, t):
    """One event; `pick(n)` draws 0..n-1. Mostly meaningful (valid, or wrong in one
    field), sometimes garbage. `held` lists (conv, agent) pairs offered so far, so
    accepts, completions and transfers often hit. Time moves in small steps and the
    thresholds are short, so offers time out, agents miss their way to a break,
    wrap-ups end, private conversations and queue heads overflow, max waits expire and
    tombstones are forgotten (test_every_output_kind_is_reached checks it)."""
    op = 1 + pick(OP_LAST)
    now = t + pick(40)
    agent = pick(n_agents + 1)  # n_agents itself is out of range
    queue = pick(n_queues + 1)
    if held and pick(2):
        conv, agent2 = held[pick(len(held))]
        if pick(4):
            agent = agent2
    else:
        conv = pick(14)
    if pick(60) == 0:  # garbage in one field, or an unknown op
        fields = [op if pick(3) else OP_LAST + 1 + pick(5), agent, conv, pick(3), now, 0]
        fields[pick(6)] = ODD[pick(len(ODD))]
        return tuple(fields)
    if op == OP_CONFIGURE:
        mask = (1 << (n_queues + 1)) - 1
        primary = pick(mask + 1)
        backup = pick(mask + 1)
        if pick(5):
            backup &= ~primary
        return (op, agent, pick(5), primary, now, backup)
    if op == OP_PRESENCE:
        return (op, agent, pick(5), pick(3), now)
    if op == OP_ENQUEUE:
        return (op, queue, conv, (0, 0, 0, 30, 500)[pick(5)], now)
    if op == OP_SET_QUEUE:
        oq = 0xFF if pick(3) else pick(n_queues + 1)
        return (op, queue, pick(6) | oq << 8, (NEVER, 0, 25, 90)[pick(4)], now,
                (NEVER, 0, 50, 150)[pick(4)])
    if op == OP_SET_MAX_WAIT:
        return (op, queue, (NEVER, NEVER, 0, 40, 120, 1 << 31)[pick(6)], 0, now)
    if op == OP_SET_WRAPUP:
        return (op, agent, (0, 30, 120)[pick(3)], pick(3), now)
    if op == OP_ENQUEUE_PRIVATE:
        return (op, agent, conv, (0, 0, 50)[pick(3)], now, pick(n_queues + 1))
    if op in (OP_ASSIGN, OP_TRANSFER_QUEUE):
        return (op, queue if op == OP_TRANSFER_QUEUE else agent, conv, pick(3), now)
    if op in (OP_ACCEPT, OP_COMPLETE) and held and pick(4):
        conv, agent = held[-1 - pick(min(3, len(held)))]  # a recent offer: likely valid
    if op in (OP_ACCEPT, OP_COMPLETE, OP_TRANSFER_AGENT, OP_NEXT):
        return (op, agent, conv, 0, now)
    if op in (OP_ABANDON, OP_REJOIN, OP_UPSTREAM, OP_RELEASE, OP_TICK):
        return (op, 0, conv, 0, now)
    raise AssertionError(op)


def drive(native, pick, n_queues, n_agents, capacity, options, n_events, snap_every=25):
    """Steps the router class `native` and the twin through one stream; returns the set
    of output kinds seen."""
    nat = native(n_queues, n_agents, capacity, **options)
    twin = TwinRouter(n_queues, n_agents, capacity, **options)
    assert nat.max_outputs() == twin.max_outputs()
    bound = nat.max_outputs()
    held = []
    kinds = set()
    t = 0
    for i in range(n_events):
        ev = make_event(pick, n_queues, n_agents, held, t)
        if isinstance(ev[4], int) and ev[4] < (1 << 62):
            t = max(t, ev[4])
        got = nat.step(*ev)
        assert got == twin.step(*ev), (i, ev)
        assert len(got[1]) <= bound
        for kind, conv, agent, _ in got[1]:
            kinds.add(kind)
            if kind == OUT_OFFER:
                held.append((conv, agent))
        if len(held) > 30:
            del held[:10]
        if i % snap_every == 0:
            assert_same_state(nat, twin, n_queues, n_agents)
            blob = nat.snapshot()
            # Restore each from the other's bytes: both must carry on identically.
            nat, twin = native.restore(twin.snapshot()), TwinRouter.restore(blob)
            assert nat.snapshot() == blob == twin.snapshot()
    assert_same_state(nat, twin, n_queues, n_agents)
    return kinds


def method_call(ev):
    """The public method (name, args) that makes the same event as `ev`, a step tuple."""
    op, a, b, c, now = ev[:5]
    d = ev[5] if len(ev) > 5 else 0
    return {
        OP_CONFIGURE: ("configure_agent", (a, b, c, d, now)),
        OP_PRESENCE: ("set_presence", (a, b, now, c)),
        OP_ENQUEUE: ("enqueue", (a, b, now, c)),
        OP_COMPLETE: ("complete", (a, b, now)),
        OP_ACCEPT: ("accept", (a, b, now)),
        OP_SET_QUEUE: ("set_queue", (a, b & 0xFF if isinstance(b, int) else b,
                                     b >> 8 if isinstance(b, int) else 0, c, d, now)),
        OP_SET_WRAPUP: ("set_wrapup", (a, b, c, now)),
        OP_ENQUEUE_PRIVATE: ("enqueue_private", (a, b, d, now, c)),
        OP_ABANDON: ("abandon", (b, now)),
        OP_REJOIN: ("rejoin", (b, now)),
        OP_ASSIGN: ("assign", (a, b, now, c)),
        OP_NEXT: ("take_next", (a, now)),
        OP_TRANSFER_AGENT: ("transfer_to_agent", (a, b, now)),
        OP_TRANSFER_QUEUE: ("transfer_to_queue", (a, b, now, c)),
        OP_UPSTREAM: ("upstream", (b, now)),
        OP_RELEASE: ("release", (b, now)),
        OP_TICK: ("tick", (now,)),
        OP_SET_MAX_WAIT: ("set_max_wait", (a, b, now)),
    }.get(op, ("queue_length", (a,)))


def call_both(nat, twin, ev, n_queues, n_agents, held):
    """One event made through the public method it names, on both routers: the same
    answer or the same exception, and the same state after."""
    name, args = method_call(ev)
    got = outcome(getattr(nat, name), *args)
    assert got == outcome(getattr(twin, name), *args), (name, args)
    outputs = got[1] if isinstance(got, tuple) else got
    if isinstance(outputs, list):
        for o in outputs:
            if o[0] == OUT_OFFER:
                held.append((o[1], o[2]))
    assert_same_state(nat, twin, n_queues, n_agents)
