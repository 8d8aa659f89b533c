"""What the core's state costs in heap, measured inside MicroPython (gc.mem_alloc after
a collection): the whole core at a given number of open conversations, and the cost
per entry of each size-capped structure. Prints one JSON line.

Run by host_tools/bench/heap.py under the 32-bit MicroPython unix port (the build
closest to an ESP32's heap): `micropython host_tools/bench/heap_probe.py params.json`
with MICROPYPATH=firmware:. ; the file's PARAMS: open, events, desks, queues, limits (config keys),
service (the service layer on, and the btree history index fed every event's effects).
"""

import gc
import json

from branchline.core import branch, config, jsonfmt
from branchline.core.conversation import Conversation
from branchline.core.metrics import Bucket
from branchline.core.rings import Fingerprints, Preferences, RecentCloses, RecentCustomers
from branchline.core.survey import Surveyed
from branchline.core.sms_outbox import SmsOutbox
from host_tools.bench import core_day

ENTRIES = 512  # entries per structure when measuring its cost per entry
T0 = 1796169600000


def heap():
    gc.collect()
    return gc.mem_alloc()


def per_entry(build, fill, n=ENTRIES):
    """Bytes per entry of the structure `build(n)` once `fill` has put n entries in:
    the difference between n and 2n entries, so what the structure costs whatever its
    size (the object, its dicts, a number the codec remembers) does not count. A first
    round at n warms up what a first use allocates once."""
    costs = []
    for size in (n, n, 2 * n):
        base = heap()
        thing = build(size)
        for i in range(size):
            fill(thing, i)
        costs.append(heap() - base)
        thing = None
    return (costs[2] - costs[1]) // n


def entry_costs():
    def fingerprint(f, i):
        f.add("m0:%08x" % i)

    def customer(r, i):
        r.remember("+4477%08d" % i, i % 4)

    def sent(o, i):
        o.add(i, "m0", "+4477%08d" % i, "x", i, 0)
        o.sent(i, "m0", [i & 0xFF])

    def scope(b, i):
        b.counters("q:q%d" % i)

    def message(conv, i):
        conv.add("in", T0 + i, "%040d" % i)

    def close(r, i):
        r.remember(i * 2654435761 & 0xFFFFFFFF, i, T0 + i, 1, 0, 0, False)

    def surveyed(r, i):
        r.remember(i * 2654435761 & 0xFFFFFFFF, T0 + i, i, 0, 1, 0, 0, "+4477%08d" % i)

    def preference(r, i):
        r.remember(i * 2654435761 & 0xFFFFFFFF, True, 1)

    costs = {}
    costs["fingerprint_bytes"] = per_entry(Fingerprints, fingerprint)
    costs["remembered_customer_bytes"] = per_entry(RecentCustomers, customer)
    costs["remembered_send_bytes"] = per_entry(
        lambda n: SmsOutbox((5,), ["m0"], n), sent, 256)
    costs["metrics_scope_bytes"] = per_entry(lambda n: Bucket(0, 1), scope, 64)
    costs["remembered_close_bytes"] = per_entry(RecentCloses, close)
    costs["remembered_survey_bytes"] = per_entry(Surveyed, surveyed)
    costs["remembered_preference_bytes"] = per_entry(Preferences, preference)
    # A message kept in its open conversation, beyond its text's UTF-8 bytes (40 here).
    each = per_entry(lambda n: Conversation(1, "+447700900123", "m0", "q0", T0), message)
    costs["message_bytes_beyond_text"] = each - 40

    def owe(o, i):
        o.add(i, "m0", "+4477%08d" % i, "%040d" % i, i, 0)

    each = per_entry(lambda n: SmsOutbox((5,), ["m0"], 1), owe, 256)
    costs["owed_sms_bytes_beyond_text"] = each - 40
    return costs


def history_index():
    """The btree history index in a scratch file (MicroPython only)."""
    import os

    from branchline.ports.micropython.history_btree import BtreeHistory

    path = "/tmp/bl-heap-probe-history.db"
    try:
        os.remove(path)
    except OSError:
        pass
    return BtreeHistory(path)


def run(params):
    service = params.get("service", False)
    make = core_day.service_config if service else core_day.config
    cfg = config.validate(make(params["desks"], params["queues"], **params.get("limits", {})))
    out = entry_costs()
    gc.collect()
    base = heap()
    core = branch.Branch(cfg)
    index = history_index() if service else None
    out["core_empty_bytes"] = heap() - base
    scenario = core_day.Scenario(params["desks"], params["queues"], menu=service)
    for ev in scenario.desks_in():
        scenario.observe(ev, core.apply(ev), len(core.conversations))

    def day(keep_open):
        """Run the stream at `keep_open` open; -> (peak, settled) heap over `base`."""
        peak = 0
        for n in range(params["events"]):
            ev = scenario.step(keep_open=keep_open, due=core.next_due())
            effects = core_day.apply_checked(core, ev)
            scenario.observe(ev, effects or (), len(core.conversations))
            if index is not None and effects:
                index.feed(effects, core.events_applied)
                if n % 50 == 0:
                    index.commit()
            effects = None
            if n % 25 == 0:
                peak = max(peak, heap() - base)
        # The peak counts the stream's own few KB (its bags of ids), settled its owed
        # events at most: a handful.
        settled = heap() - base
        return max(peak, settled), settled

    out["core_peak_bytes"], out["core_settled_bytes"] = day(params["open"])
    # A metrics message, waiting in the uplink outbox for the broker's acknowledgement.
    before = heap()
    core_day.apply_checked(core, {"k": "metrics", "t": scenario.t})
    out["metrics_message_bytes"] = heap() - before
    for seq in sorted(core.uplink_outbox):
        core_day.apply_checked(core, {"k": "uplink_ack", "t": scenario.t, "seq": seq})
    out["open"] = len(core.conversations)
    messages = 0
    for conv in core.conversations.values():
        messages += conv.message_count()
    out["messages_per_open"] = messages // max(1, out["open"])
    # One more open conversation's cost: the same stream at twice the load, once the
    # bounded structures are full either way.
    _, twice = day(2 * params["open"])
    out["open_conversation_bytes"] = (twice - out["core_settled_bytes"]) // (
        len(core.conversations) - out["open"])
    return out


try:
    PARAMS  # noqa: F821 (set by a runner that cannot pass argv)
except NameError:
    import sys

    # The parameters come in a file: the unix port stops with "uncaught NLR" on an
    # argument of 255 characters or more (an interned string's length is one byte).
    with open(sys.argv[1]) as f:
        PARAMS = json.load(f)
print(jsonfmt.dumps(run(PARAMS)))
