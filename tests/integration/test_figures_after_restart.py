"""Figures survive a kill: the real gateway is SIGKILLed in the middle of a working day
(snapshots every few records, so it restarts from a snapshot and a journal tail) and
every figure it reports afterwards is the one an uninterrupted run computes.

The uninterrupted run is a fresh core fed the whole journal (archived and live
segments) from its first record, with no snapshot in between. Compared with it: every
`metrics`, `interval` and `session` message head office received, before and after the
kill, and the state folder's figures once the day is over.
"""

import io
import json

from branchline.core import branch as core_branch
from branchline.core import config, jsonfmt
from branchline.log import Log
from branchline.ports.cpython.startup import StateDir
from branchline.ports.cpython.app import open_store
from host_tools.sim_branch import SimulatedBranch

FIGURE_KINDS = ("metrics", "interval", "session")


def state(branch):
    status, body = branch.console("GET", "/api/state")
    assert status == 200
    return body


def conversation(branch, conv_id):
    """The console's document of an open conversation; {"state": "closed"} once over."""
    status, body = branch.console("GET", "/api/conversations/%d" % conv_id)
    assert status in (200, 404), body
    return body if status == 200 else {"state": "closed"}


def post(branch, path, body=None):
    status, answer = branch.console("POST", path, body or {})
    assert status == 200, (path, answer)


def held(branch):
    return [c for desk in state(branch)["desks"] for c in desk["conversations"]]


def handled_so_far(branch):
    figures = [m["metrics"]["day"]["all"]["handled"] for m in branch.mqtt("metrics")]
    return figures[-1] if figures else 0


def serve_everyone(branch, transfer=None):
    """The desks answer and close whatever they hold until nobody is left (the first
    one held is passed to queue `transfer` instead, once)."""
    deadline_rounds = 40
    while deadline_rounds:
        deadline_rounds -= 1
        now_held = held(branch)
        if not now_held:
            if sum(q["waiting"] for q in state(branch)["queues"]) == 0:
                return
            branch.wait_for("an offer", lambda: held(branch))
            continue
        conv = now_held[0]
        if transfer is not None:
            post(branch, "/api/conversations/%d/reply" % conv, {"text": "One moment."})
            post(branch, "/api/conversations/%d/transfer" % conv, {"queue": transfer})
            transfer = None
            continue
        post(branch, "/api/conversations/%d/reply" % conv, {"text": "Done for you."})
        post(branch, "/api/conversations/%d/close" % conv, {"outcome": "resolved"})
    raise AssertionError("the desks did not get through the queue")


def uninterrupted(cfg, events):
    """A core fed every journal record from the first: -> (core, {uplink id: payload})."""
    core = core_branch.Branch(cfg)
    sent = {}
    for ev in events:
        for effect in core.apply(ev):
            if effect[0] == "uplink" and effect[2] in FIGURE_KINDS:
                sent[effect[3]["id"]] = json.loads(jsonfmt.encode(effect[3]))
    return core, sent


def test_every_figure_after_a_kill_mid_day_is_an_uninterrupted_run_s(tmp_path):
    branch = SimulatedBranch(workdir=str(tmp_path), config_overrides={
        "snapshot_every_events": 8, "report_interval_s": 60, "short_abandon_s": 2,
        "rejoin_s": 1})
    try:
        branch.start()
        branch.panel.press(1, "AVAIL")
        branch.panel.press(2, "AVAIL")
        customers = ["+4477009001%02d" % n for n in range(6)]
        for number, text in zip(customers, ("hello", "my balance", "hi", "card lost",
                                            "account question", "opening hours?")):
            branch.modem.deliver(number, text)
        branch.wait_for("six conversations, three held",
                        lambda: len(branch.gateway_has("sms_received")) == 6
                        and len(held(branch)) == 3)
        first = held(branch)[0]
        post(branch, "/api/conversations/%d/reply" % first, {"text": "Hello!"})
        post(branch, "/api/conversations/%d/close" % first, {})
        waiting = [c for c in range(1, 7) if conversation(branch, c)["state"] == "queued"]
        assert len(waiting) == 2
        branch.modem.deliver(conversation(branch, waiting[-1])["customer"], "cancel")
        branch.wait_for("the cancel taken", lambda: conversation(
            branch, waiting[-1])["state"] in ("abandoned", "closed"))
        branch.wait_for("figures with the first close",
                        lambda: handled_so_far(branch) == 1)
        before_kill = len(branch.mqtt("metrics"))

        branch.kill_gateway()  # SIGKILL, mid-day: no clean shutdown
        branch.start_gateway()
        (replayed,) = branch.gateway_has("journal_replayed")
        assert int(replayed["events"]) < int(replayed["records"])  # from a snapshot
        branch.modem.deliver("+447700900199", "one more question")
        serve_everyone(branch, transfer="accounts")
        branch.panel.press(2, "BREAK")
        branch.panel.press(2, "BREAK")
        branch.wait_for("figures with every close",
                        lambda: handled_so_far(branch) == 6 and state(branch)["held"] == 0)
        assert branch.stop_gateway() == 0
        events = branch.journal_events()
    finally:
        branch.close()

    cfg = config.validate(dict(branch.config))
    core, sent = uninterrupted(cfg, events)
    received = {}
    for kind in FIGURE_KINDS:
        for payload in branch.mqtt(kind):
            received[payload["id"]] = payload
    assert len(branch.mqtt("metrics")) > before_kill  # figures came from both lives
    for uplink_id, payload in sorted(received.items()):
        assert payload == sent[uplink_id], uplink_id
    sessions = [i for i, p in sent.items() if "session" in p]
    assert len(sessions) == 7 and set(sessions) <= set(received)  # 6 closed, 1 cancelled

    restarted = core_branch.Branch(cfg)
    state_dir = StateDir(cfg["state_dir"])
    open_store(state_dir, Log(io.StringIO())).load(restarted)
    state_dir.release()
    assert jsonfmt.dumps(restarted.metrics.dump()) == jsonfmt.dumps(core.metrics.dump())
    assert restarted.metrics.report(core.now) == core.metrics.report(core.now)
    day = core.metrics.report(core.now)["day"]["all"]
    assert (day["offered"], day["handled"], day["transfers"]) == (7, 6, 1)
    assert day["abandoned"] + day["short_abandoned"] == 1
