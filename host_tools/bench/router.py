"""Router throughput: the C core alone, through cffi (batch and per event), and the twin.

The event stream is the one native/bench_router.c builds: same xorshift64, same draws in
the same order, so the C and Python streams are identical, which main() checks through
a hash of the events and the numbers of offers and outputs they cause. See bench_router.c
for the mix of events.
"""

import json
import os
import subprocess
import time

from branchline.router import (
    AVAILABLE,
    BREAK,
    OFFLINE,
    OP_ACCEPT,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
    OUT_OFFER,
)
from branchline.router.native import NativeRouter
from branchline.router.twin import TwinRouter

from host_tools.bench import report
from host_tools.bench.router_batch import BatchRouter, pack_events

N_QUEUES = 32
N_AGENTS = 64
QUEUE_CAPACITY = 64
N_EVENTS = 1_000_000
VIP_PRIORITY_MS = 30_000
SEED = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1
_PRESENCE_DRAW = (OFFLINE, AVAILABLE, BREAK, AVAILABLE)

NATIVE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "native")


class XorShift64:
    """Marsaglia's xorshift64 (13, 7, 17), as in bench_router.c."""

    def __init__(self, seed=SEED):
        self.state = seed

    def below(self, n):
        s = self.state
        s ^= (s << 13) & _M64
        s ^= s >> 7
        s ^= (s << 17) & _M64
        self.state = s
        return (s >> 32) % n


def make_stream(n_events, router):
    """(the bench stream of n_events (op, a, b, c, now_ms) tuples, how many offers and
    how many outputs it causes).

    `router` is a fresh Router(N_QUEUES, N_AGENTS, QUEUE_CAPACITY) that the stream is
    stepped through while it is built, so completions name conversations that really
    were assigned.
    """
    rng = XorShift64()
    below = rng.below

    def configure(agent):
        cap = 1 + below(3)
        skills = (1 << below(N_QUEUES)) | (1 << below(N_QUEUES)) | (1 << below(N_QUEUES))
        return (OP_CONFIGURE, agent, cap, skills)

    events = []
    held = []
    offers = 0
    total = 0
    next_conv = 1
    t = 0
    for i in range(n_events):
        t += below(20)
        if i < N_AGENTS:
            ev = configure(i)
        elif i < 2 * N_AGENTS:
            ev = (OP_PRESENCE, i - N_AGENTS, AVAILABLE, 0)
        else:
            k = below(100)
            if 40 <= k < 88 and held:
                j = below(len(held))
                conv, agent = held[j]
                if k < 80:
                    held[j] = held[-1]  # swap-remove, as the C builder does
                    held.pop()
                    ev = (OP_COMPLETE, agent, conv, 0)
                else:
                    ev = (OP_ACCEPT, agent, conv, 0)
            elif k < 88:
                q = below(N_QUEUES)
                ev = (OP_ENQUEUE, q, next_conv, VIP_PRIORITY_MS if below(16) == 0 else 0)
                next_conv += 1
            elif k < 96:
                ev = (OP_PRESENCE, below(N_AGENTS), _PRESENCE_DRAW[below(4)], 0)
            else:
                ev = configure(below(N_AGENTS))
        ev = ev + (t,)
        events.append(ev)
        _, got = router.step(*ev)
        for out in got:
            if out[0] == OUT_OFFER:
                held.append((out[1], out[2]))
                offers += 1
        total += len(got)
        if ev[0] == OP_PRESENCE and ev[2] != AVAILABLE:
            # Leaving returned the agent's offers to the queues: forget them.
            held = [h for h in held if router.conv_agent(h[0]) == h[1]]
    return events, offers, total


def stream_hash(events):
    """FNV-1a over every field as a 64-bit word (bench_router.c's stream_hash)."""
    h = 0xCBF29CE484222325
    for ev in events:
        for w in ev:
            h = ((h ^ (w & _M64)) * 0x100000001B3) & _M64
    return "%016x" % h


def run_c_bench(n_events):
    if not os.path.exists(os.path.join(NATIVE_DIR, "bench_router.c")):
        # An installed package has the compiled router, not the C sources the bench builds.
        raise report.BenchUnavailable(
            "router: needs the C sources (native/) of a source checkout; run `make bench` there"
        )
    subprocess.run(["make", "-s", "-C", NATIVE_DIR, "build/bench_router"], check=True)
    binary = os.path.join(NATIVE_DIR, "build", "bench_router")
    line = subprocess.run(
        [binary, str(n_events)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(line)


def _best_rate(n_events, runs, body):
    """(events per second of the fastest of `runs` calls, what the last call returned)."""
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = body()
        dt = time.perf_counter() - t0
        best = dt if best is None or dt < best else best
    return n_events / best, result


def _fresh(cls):
    return cls(N_QUEUES, N_AGENTS, QUEUE_CAPACITY)


def _step_all(router, events):
    step = router.step
    count = 0
    for ev in events:
        count += len(step(*ev)[1])
    return count


def main(n_events=N_EVENTS):
    c = run_c_bench(n_events)
    events, offers, expected = make_stream(n_events, _fresh(NativeRouter))
    digest = stream_hash(events)
    if (digest, offers, expected) != (c["stream_hash"], c["assignments"], c["outputs"]):
        raise RuntimeError(
            "C and Python streams differ: hash %s/%s, offers %d/%d, outputs %d/%d"
            % (c["stream_hash"], digest, c["assignments"], offers, c["outputs"], expected)
        )

    # The batch figure is the C call over a pre-packed bl_event array: turning Python
    # tuples into bl_events (pack_events) is the caller's cost, not the router's, and
    # is reported separately. run_packed returns the rcs as an array and the outputs
    # as the packed bl_output array (Outputs, decoded on access); the rate with every
    # output turned into a tuple is reported too.
    pack_rate, (packed, n_packed) = _best_rate(n_events, 3, lambda: pack_events(events))
    batch, (batch_rcs, batch_out) = _best_rate(
        n_events, 7, lambda: _fresh(BatchRouter).run_packed(packed, n_packed)
    )
    batch_tuples, tuples = _best_rate(
        n_events, 3, lambda: list(_fresh(BatchRouter).run_packed(packed, n_packed)[1])
    )
    if len(batch_rcs) != n_events or tuples != list(batch_out):
        raise RuntimeError("cffi batch: rcs or outputs differ between runs")
    per_event, stepped = _best_rate(n_events, 5, lambda: _step_all(_fresh(NativeRouter), events))
    twin, twin_count = _best_rate(n_events, 1, lambda: _step_all(_fresh(TwinRouter), events))
    if (len(batch_out), stepped, twin_count) != (expected, expected, expected):
        raise RuntimeError(
            "output counts differ: stream %d, cffi batch %d, cffi per event %d, twin %d"
            % (expected, len(batch_out), stepped, twin_count)
        )

    figures = {
        "c_core_events_per_s": c["c_core_events_per_s"],
        "cffi_batch_events_per_s": round(batch),
        "cffi_per_event_events_per_s": round(per_event),
        "twin_events_per_s": round(twin),
        "state_bytes": c["state_bytes"],
    }
    notes = [
        "%d events (32 queues, 64 agents, queue capacity 64, default pool of %d "
        "conversations), %d outputs of which %d offers; C and Python streams identical "
        "(xorshift64, hash %s)"
        % (n_events, _fresh(NativeRouter).cfg.max_convs, expected, offers, digest),
        "c_core: bl_router_run in C (bench_router.c, -O2), every event applied and "
        "drained, best of %d" % c["runs"],
        "cffi batch: host_tools.bench.router_batch's BatchRouter.run_packed over a "
        "pre-packed bl_event array (bl_router_run calls, each until fewer than "
        "bl_router_max_outputs of its 4 x that output slots remain), best of 7: a fresh "
        "router each run, every event applied and drained in C, rcs returned as "
        "array('i') and the outputs as the packed bl_output array (Outputs, tuples "
        "decoded on access); packing the tuples with pack_events (%.1fM events/s) is not "
        "counted; turning every output into a tuple as well (list(out)) gives %.1fM "
        "events/s" % (pack_rate / 1e6, batch_tuples / 1e6),
        "cffi per event: NativeRouter.step (one blx_step call per event, outputs as "
        "a list of tuples), best of 5; per event / twin = %.1fx" % (per_event / twin),
        "twin: TwinRouter.step, 1 run; C core, cffi batch, cffi per event and twin all "
        "wrote the same %d outputs" % expected,
        "state_bytes = sizeof(bl_router) + bl_router_mem_size (C core, x86-64)",
    ]
    report.write("router", figures, notes)
    return 0


if __name__ == "__main__":
    main()
