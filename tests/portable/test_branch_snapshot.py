"""The branch's whole state survives a dump and a load: a branch restored from a
snapshot behaves, event for event, exactly like the one that never stopped."""

import json

from check import raises

from branchline.core import branch, config, jsonfmt
from host_tools.bench import core_day

CFG = config.validate(core_day.config(6, 3, queue_capacity=16, offer_timeout_s=60,
                                      max_missed_offers=2, remembered_sends=32,
                                      remembered_customers=64, remembered_messages=64))


def run(core, scenario, n):
    out = []
    for _ in range(n):
        ev = scenario.step(keep_open=40)
        effects = core_day.apply_checked(core, ev)
        scenario.observe(ev, effects or (), len(core.conversations))
        out.append(jsonfmt.dumps([ev, effects]))
    return out


def restored(core):
    """A new branch loaded from `core`'s state as the snapshot file would carry it."""
    other = branch.Branch(CFG)
    other.load(json.loads(jsonfmt.dumps(core.dump())))
    return other


def test_a_restored_branch_carries_on_exactly_like_the_original():
    core = branch.Branch(CFG)
    scenario = core_day.Scenario(6, 3)
    for ev in scenario.desks_in():
        scenario.observe(ev, core.apply(ev), len(core.conversations))
    run(core, scenario, 1500)
    assert len(core.conversations) > 20  # some held, some waiting, some held back
    dumped = jsonfmt.dumps(core.dump())
    copy = restored(core)
    assert jsonfmt.dumps(copy.dump()) == dumped
    ahead = run(core, scenario, 800)
    assert run_again(copy, ahead) == ahead  # the same events meet the same state
    assert jsonfmt.dumps(copy.dump()) == jsonfmt.dumps(core.dump())


def run_again(core, recorded):
    """Apply the recorded events to `core`: -> the same record of events and effects."""
    out = []
    for line in recorded:
        ev = json.loads(line)[0]
        effects = core_day.apply_checked(core, ev)
        out.append(jsonfmt.dumps([ev, effects]))
    return out


def test_a_state_for_other_queues_or_desks_is_refused():
    core = branch.Branch(CFG)
    other = config.validate(core_day.config(5, 3, queue_capacity=16))
    with raises(branch.SnapshotMismatch, match="the state has 3 queues and 6 desks"):
        branch.Branch(other).load(json.loads(jsonfmt.dumps(core.dump())))


def test_a_replay_makes_only_the_bodies_still_owed_and_ends_as_the_live_branch():
    live = branch.Branch(CFG)
    scenario = core_day.Scenario(6, 3, gap_ms=20000)  # hours: intervals end, reports go
    journal = []
    for ev in scenario.desks_in():
        scenario.observe(ev, live.apply(ev), len(live.conversations))
        journal.append(ev)
    for _ in range(1500):
        ev = scenario.step(keep_open=40)
        effects = core_day.apply_checked(live, ev)
        if effects is not None:
            scenario.observe(ev, effects, len(live.conversations))
            journal.append(ev)
    # Head office has not acknowledged the last report, an interval's, and a session
    # whose customer is then erased (the record owed must carry the pseudonym).
    t = scenario.t
    conv = [c for c in live.conversations.values() if c.state in ("offered", "active")
            and all(i["to"] != c.customer for i in live.outbox.items.values())][0]
    for ev in ({"k": "metrics", "t": t}, {"k": "close", "t": t, "conv": conv.id},
               {"k": "erase", "t": t, "customer": conv.customer},
               {"k": "tick", "t": t + 3600000}):
        live.apply(ev)
        journal.append(ev)
    owed = [kind for kind, _payload in live.uplink_outbox.values()]
    assert "metrics" in owed and "interval" in owed and "session" in owed
    assert conv.customer not in jsonfmt.dumps(live.pending_effects())

    replayed = branch.Branch(CFG)
    replayed.begin_replay()
    reports = []
    for ev in journal:
        for effect in replayed.replay(ev):
            if effect[0] == "uplink" and effect[2] in ("interval", "metrics", "session"):
                reports.append(effect[3][effect[2]])
    assert len(reports) > 20 and reports == [None] * len(reports)  # none made meanwhile
    replayed.end_replay()
    assert jsonfmt.dumps(replayed.dump()) == jsonfmt.dumps(live.dump())
    assert jsonfmt.dumps(replayed.pending_effects()) == jsonfmt.dumps(live.pending_effects())


def test_the_conversations_are_made_one_by_one_as_the_state_is_written():
    core = branch.Branch(CFG)
    run(core, core_day.Scenario(6, 3), 300)
    doc = core.dump()
    made = []
    each = doc["conversations"]
    assert isinstance(each, jsonfmt.Each) and made == []
    make = each.make
    each.make = lambda c: made.append(c) or make(c)
    written = []
    jsonfmt.write(doc, written.append)
    assert made == sorted(core.conversations) and len(made) > 10
    # The same bytes as the state built whole, and it iterates as that list does.
    whole = dict(doc, conversations=[core.conversations[c].dump()
                                     for c in sorted(core.conversations)])
    assert b"".join(written) == jsonfmt.encode(whole)
    assert list(each) == whole["conversations"]
