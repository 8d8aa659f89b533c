"""The router bench's batch path (host_tools.bench.router_batch): bl_router_run over a
packed event array must give exactly what stepping the events one by one gives."""

import pytest

from branchline.router import AVAILABLE, OP_COMPLETE, OP_CONFIGURE, OP_ENQUEUE, OP_PRESENCE
from branchline.router.native import NativeRouter

from host_tools.bench.router_batch import BatchRouter, Outputs, pack_events


def _stream(n):
    # Enough agents and enqueues that the run's output buffer fills several times.
    evs = [(OP_CONFIGURE, a, 3, 0xFFFF, 0) for a in range(64)]
    evs += [(OP_PRESENCE, a, AVAILABLE, 0, 1) for a in range(64)]
    conv = 0
    while len(evs) < n:
        conv += 1
        evs.append((OP_ENQUEUE, conv % 16, conv, 0, conv))
        if conv > 150:
            # Completes the conversation enqueued 150 events ago, which is held by now.
            evs.append((OP_COMPLETE, 0, conv - 150, 0, conv))
    return evs


def test_run_packed_matches_step_across_output_buffer_refills():
    evs = _stream(100_000)
    batch, stepped = BatchRouter(16, 64, 64), NativeRouter(16, 64, 64)
    rcs, out = batch.run_packed(*pack_events(evs))
    assert isinstance(out, Outputs)
    want_rcs, want_out = [], []
    for ev in evs:
        rc, got = stepped.step(*ev)
        want_rcs.append(rc)
        want_out.extend(got)
    assert list(rcs) == want_rcs
    # More outputs than one bl_router_run call has room for: the loop refilled.
    assert len(out) == len(want_out) > 4 * batch.max_outputs()
    assert list(out) == want_out and out == want_out
    assert out[0] == want_out[0] and out[-1] == want_out[-1]
    assert out[10:13] == want_out[10:13]
    with pytest.raises(IndexError):
        out[len(out)]
    empty_rcs, empty = BatchRouter(1, 1, 1).run_packed(*pack_events([]))
    assert len(empty_rcs) == 0 and len(empty) == 0 and list(empty) == []
