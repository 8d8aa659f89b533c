"""NativeRouter (cffi wrapper over native/router.c): every method, every error."""

import pytest

# `make test` always builds the extension (pip install -e .), so its absence is a
# failure here, not a reason to skip.
from branchline.router import native

from branchline.router import (
    AVAILABLE,
    BREAK,
    OFFLINE,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
    OUT_OFFER,
    OUT_OFFER_TIMEOUT,
    OUT_RETURNED,
    InvalidArgument,
    NotHeld,
    QueueFull,
    Router,
    RouterError,
)
from branchline.router.codes import EFULL, EINVAL, ENOENT, OK
from branchline.router.twin import TwinRouter

NativeRouter = native.NativeRouter
lib = native.lib


def make(n_queues=2, n_agents=3, capacity=4):
    return NativeRouter(n_queues, n_agents, capacity)


def test_codes_module_matches_router_h():
    from branchline.router import codes

    names = [name for name in dir(lib) if name.startswith("BL_")]
    assert "BL_OUT_WRAPUP_END" in names and "BL_OP_SET_MAX_WAIT" in names
    for name in names:
        assert getattr(codes, name[3:]) == getattr(lib, name), name


def test_cdef_comes_from_router_h():
    import os
    import sys

    here = os.path.join(os.path.dirname(__file__), "..", "..", "native")
    sys.path.insert(0, here)
    try:
        import build_router
    finally:
        sys.path.remove(here)
    with open(os.path.join(here, "router.h")) as f:
        header = f.read()
    cdef = build_router.cdef_from_header(header)
    # Every public function of the header is declared, and the router stays opaque.
    for name in set(__import__("re").findall(r"\b(bl_router_\w+)\(", header)):
        assert name + "(" in cdef, name
        assert hasattr(lib, name), name
    assert "typedef struct { ...; } bl_router;" in cdef
    assert "uint8_t kind;" in cdef  # bl_output in full


def test_max_outputs_matches_the_twin():
    for args in ((1, 1, 1), (32, 64, 64), (3, 5, 7)):
        for max_convs in (0, 9):
            cfg = native.ffi.new("bl_router_cfg *")
            cfg.n_queues, cfg.n_agents, cfg.queue_capacity = args
            cfg.max_convs = max_convs
            got = NativeRouter(*args, max_convs=max_convs).max_outputs()
            assert got == lib.bl_router_max_outputs(cfg)
            assert got == TwinRouter(*args, max_convs=max_convs).max_outputs()


def test_router_is_the_native_one_when_built():
    assert Router is NativeRouter


@pytest.mark.parametrize(
    "args",
    [
        (0, 1, 1),
        (33, 1, 1),
        (1, 0, 1),
        (1, 65, 1),
        (1, 1, 0),
        (1, 1, 0x10000),
        (1.0, 1, 1),
        ("1", 1, 1),
    ],
)
def test_constructor_rejects_bad_config(args):
    with pytest.raises(InvalidArgument):
        NativeRouter(*args)


def test_state_bytes_is_struct_plus_pool():
    small, big = NativeRouter(1, 1, 1), NativeRouter(32, 64, 100)
    cfg = native.ffi.new("bl_router_cfg *")
    cfg.n_queues, cfg.n_agents, cfg.queue_capacity = 32, 64, 100
    assert big.state_bytes == native.ffi.sizeof("bl_router") + lib.bl_router_mem_size(cfg)
    assert big.cfg.max_convs == 32 * 100 + 64 * 4
    assert 0 < small.state_bytes < big.state_bytes


def test_initial_state():
    r = make()
    assert [r.queue_length(q) for q in range(2)] == [0, 0]
    assert [r.agent_load(a) for a in range(3)] == [0, 0, 0]
    assert [r.agent_presence(a) for a in range(3)] == [OFFLINE] * 3
    assert r.tick(0) == []


def test_configure_agent_errors():
    r = make()
    for args in [
        (3, 1, 1),
        (-1, 1, 1),
        (0, 0, 1),
        (0, 4, 1),
        (0, 1, 4),
        (0, 1, -1),
        (0, 1, 1 << 40),
        (0, 1.5, 1),
    ]:
        with pytest.raises(InvalidArgument, match="configure_agent"):
            r.configure_agent(*args)
    assert r.configure_agent(2, 3, 0b11) == []


def test_set_presence_errors_and_values():
    r = make()
    for args in [
        (3, AVAILABLE, 0),
        (0, 4, 0),
        (0, -1, 0),
        (0, AVAILABLE, 1 << 63),
        (0, AVAILABLE, None),
    ]:
        with pytest.raises(InvalidArgument):
            r.set_presence(*args)
    for p in (AVAILABLE, BREAK, OFFLINE):
        r.set_presence(1, p, -(1 << 63))
        assert r.agent_presence(1) == p


def test_enqueue_full_and_errors():
    r = make(capacity=2)
    r.enqueue(0, 1, 0)
    r.enqueue(0, 0xFFFFFFFF, 0)
    with pytest.raises(QueueFull) as info:
        r.enqueue(0, 3, 0)
    assert info.value.rc == EFULL
    for args in [(2, 1, 0), (0, -1, 0), (0, 1 << 32, 0), (0, 1, "now")]:
        with pytest.raises(InvalidArgument):
            r.enqueue(*args)
    assert r.queue_length(0) == 2


def test_assignment_complete_and_not_held():
    r = make()
    r.configure_agent(1, 2, 0b10)
    r.set_presence(1, AVAILABLE, 5)
    assert r.enqueue(1, 77, 6) == [(OUT_OFFER, 77, 1, 1)]
    assert r.enqueue(0, 78, 6) == []  # agent 1 does not serve queue 0
    assert r.agent_load(1) == 1
    with pytest.raises(NotHeld) as info:
        r.complete(1, 78, 8)
    assert info.value.rc == ENOENT
    with pytest.raises(NotHeld):
        r.complete(0, 77, 8)
    with pytest.raises(InvalidArgument):
        r.complete(3, 77, 8)
    r.complete(1, 77, 8)
    assert r.agent_load(1) == 0


def test_bad_time_is_invalid_everywhere():
    r = make()
    for bad in (1 << 63, -(1 << 63) - 1, 1.0):
        with pytest.raises(InvalidArgument):
            r.tick(bad)
        with pytest.raises(InvalidArgument):
            r.backup_due(bad)


def test_a_failed_call_carries_its_outputs():
    r = NativeRouter(1, 1, 4, offer_timeout_ms=100)
    r.configure_agent(0, 1, 1)
    r.set_presence(0, AVAILABLE, 0)
    assert r.enqueue(0, 5, 0) == [(OUT_OFFER, 5, 0, 0)]
    with pytest.raises(NotHeld) as info:
        r.complete(0, 99, 200)  # the timers ran first: 5 timed out, then re-offered
    assert info.value.outputs == [(OUT_OFFER_TIMEOUT, 5, 0, 0), (OUT_OFFER, 5, 0, 0)]


@pytest.mark.parametrize("query", ["queue_length", "agent_load", "agent_presence",
                                   "agent_state"])
@pytest.mark.parametrize("index", [3, -1, 1 << 16, "0"])
def test_queries_reject_bad_index(query, index):
    with pytest.raises(InvalidArgument, match=query):
        getattr(make(), query)(index)


def test_errors_share_a_base():
    for exc in (InvalidArgument, QueueFull, NotHeld):
        assert issubclass(exc, RouterError)


def test_step_returns_rc_and_outputs():
    r = make()
    assert r.step(OP_CONFIGURE, 0, 3, 0b01, 0) == (OK, [])
    for conv in (10, 11, 12, 13):
        assert r.step(OP_ENQUEUE, 0, conv, 0, 1) == (OK, [])
    assert r.step(OP_PRESENCE, 0, AVAILABLE, 0, 2) == (
        OK, [(OUT_OFFER, 10, 0, 0), (OUT_OFFER, 11, 0, 0), (OUT_OFFER, 12, 0, 0)]
    )
    assert r.step(OP_COMPLETE, 0, 99, 0, 3) == (ENOENT, [])
    assert r.step(OP_COMPLETE, 0, 11, 0, 3) == (OK, [(OUT_OFFER, 13, 0, 0)])
    assert r.step(OP_PRESENCE, 0, OFFLINE, 0, 4) == (
        OK, [(OUT_RETURNED, 10, 0, 0), (OUT_RETURNED, 12, 0, 0), (OUT_RETURNED, 13, 0, 0)]
    )
    assert r.step(0, 0, 0, 0, 0) == (EINVAL, [])
    assert r.step(OP_ENQUEUE, 0, 1 << 32, 0, 0) == (EINVAL, [])
    assert r.step(OP_ENQUEUE, 0, 1, 0, 0.5) == (EINVAL, [])


def test_run_matches_step():
    evs = [(OP_CONFIGURE, a, 3, 0xFFFF, 0) for a in range(8)]
    evs += [(OP_PRESENCE, a, AVAILABLE, 0, 1) for a in range(8)]
    evs += [(OP_ENQUEUE, conv % 16, conv, 0, conv) for conv in range(40)]
    batch, stepped = NativeRouter(16, 8, 64), NativeRouter(16, 8, 64)
    rcs, out = batch.run(evs)
    want_rcs, want_out = [], []
    for ev in evs:
        rc, got = stepped.step(*ev)
        want_rcs.append(rc)
        want_out.extend(got)
    assert (rcs, out) == (want_rcs, want_out)
    assert len(out) == 24


def test_run_with_unrepresentable_events_answers_einval_without_drain():
    r = make()
    evs = [
        (OP_CONFIGURE, 0, 1, 1, 0),
        (OP_ENQUEUE, 0, 5, 0, 0),
        (OP_ENQUEUE, 70000, 5, 0, 0),
        (OP_PRESENCE, 0, AVAILABLE, 0, 1),
        (OP_ENQUEUE, 0, 6, 0, -1.0),
    ]
    assert r.run(evs) == ([OK, OK, EINVAL, OK, EINVAL], [(OUT_OFFER, 5, 0, 0)])
    assert r.run([]) == ([], [])
