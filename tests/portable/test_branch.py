"""The branch core: queueing, presence, assignment within caps, replies, wrap-up, outboxes,
and deterministic replay (same journal, same state, same owed effects)."""

from check import raises

from branchline.core import branch, config

CFG = config.validate(
    {
        "site": "s1",
        "device": "d1",
        "queues": [
            {"name": "general", "keywords": []},
            {"name": "loans", "keywords": ["loan", "贷款"]},
        ],
        "desks": [
            {"desk": 1, "cap": 2, "queues": ["general", "loans"]},
            {"desk": 2, "cap": 1, "queues": ["general"]},
        ],
        "service_level_s": 40,
    }
)


def sms(t, sender, text, fp=None):
    ev = {"k": "sms_in", "t": t, "modem": "m0", "from": sender, "text": text}
    if fp is not None:
        ev["fp"] = fp
    return ev


def press(t, desk, button="AVAIL"):
    return {"k": "button", "t": t, "desk": desk, "button": button}


def kinds(effects, kind):
    return [e for e in effects if e[0] == kind]


def run(events):
    b = branch.Branch(CFG)
    effects = []
    for ev in events:
        effects.extend(b.apply(ev))
    return b, effects


def test_keywords_pick_the_queue_else_the_first():
    b = branch.Branch(CFG)
    assert b.queue_for("I need a LOAN") == "loans"
    assert b.queue_for("我想办贷款") == "loans"
    assert b.queue_for("hello") == "general"


def test_keyword_case_folding_is_the_same_on_every_runtime():
    # Only A-Z fold: MicroPython cannot fold other scripts, so CPython must not either.
    b = branch.Branch(CFG)
    assert branch.ascii_lower("LOAN Épargne") == "loan Épargne"
    assert b.queue_for("LoAn") == "loans"


def test_waiting_conversations_go_to_the_agent_who_becomes_available():
    b, effects = run([sms(1000, "+1", "hi"), sms(2000, "+2", "loan please"), press(5000, 1)])
    assigned = kinds(effects, "assigned")
    assert [(a[1], a[2]) for a in assigned] == [(1, 1), (2, 1)]
    assert b.conversations[1].assigned == 5000
    assert ("led", 1, "RED") in effects  # desk 1 is at its cap of 2


def test_cap_is_never_exceeded_and_the_next_free_slot_is_used():
    events = [press(0, 2)] + [sms(10 + i, "+%d" % i, "hi") for i in range(3)]
    b, effects = run(events)
    assert [a[2] for a in kinds(effects, "assigned")] == [2]
    assert b.router.agent_load(1) == 1
    more = b.apply({"k": "close", "t": 100, "conv": 1})
    assert [(a[1], a[2]) for a in kinds(more, "assigned")] == [(2, 2)]


def test_second_message_from_a_customer_joins_the_open_conversation():
    b, _ = run([sms(1, "+1", "hi"), sms(2, "+1", "still there?")])
    assert len(b.conversations) == 1
    assert [m[2] for m in b.conversations[1].messages] == ["hi", "still there?"]


def test_same_fingerprint_is_one_message():
    b, _ = run([sms(1, "+1", "hi", fp="m0:1"), sms(5, "+1", "hi", fp="m0:1")])
    assert len(b.conversations[1].messages) == 1


def test_reply_goes_to_the_sms_outbox_until_sent():
    b, _ = run([sms(1000, "+1", "hi"), press(2000, 1)])
    effects = b.apply({"k": "reply", "t": 3000, "conv": 1, "text": "Hello!"})
    (send,) = kinds(effects, "send_sms")
    assert send[2:] == ("m0", "+1", "Hello!")
    assert b.sms_outbox and b.metrics.snapshot()["first_response_s"] == 2.0
    b.apply({"k": "sms_sent", "t": 3500, "out": send[1], "ok": True})
    assert not b.sms_outbox


def test_close_uplinks_a_session_record_and_metrics_follow():
    b, _ = run([sms(1000, "+1", "hi"), press(31000, 1)])
    b.apply({"k": "reply", "t": 32000, "conv": 1, "text": "Hello!"})
    effects = b.apply({"k": "close", "t": 91000, "conv": 1, "outcome": "resolved"})
    (up,) = kinds(effects, "uplink")
    seq, kind, payload = up[1], up[2], up[3]
    assert kind == "session" and payload["id"] == "d1-%d" % seq
    session = payload["session"]
    assert session["customer"] == "+1" and session["desk"] == 1 and session["queue"] == "general"
    assert session["created"] == 1000 and session["assigned"] == 31000
    assert session["closed"] == 91000 and session["outcome"] == "resolved"
    assert [m["dir"] for m in session["messages"]] == ["in", "out"]
    assert not kinds(effects, "led")  # 1 of 2 slots before and 0 after: GREEN throughout
    (tick,) = kinds(b.apply({"k": "tick", "t": 92000}), "uplink")
    m = tick[3]["metrics"]
    assert (m["offered"], m["answered"], m["closed"]) == (1, 1, 1)
    assert m["asa_s"] == 30.0 and m["handle_s"] == 60.0 and m["service_level_pct"] == 100.0
    b.apply({"k": "uplink_ack", "t": 93000, "seq": seq})
    assert list(b.uplink_outbox) == [tick[1]]


def test_service_level_counts_slow_answers_against_it():
    b, _ = run([sms(0, "+1", "a"), sms(0, "+2", "b"), press(41000, 1)])
    assert b.metrics.snapshot()["service_level_pct"] == 0.0
    b2, _ = run([sms(0, "+1", "a"), press(40000, 1)])
    assert b2.metrics.snapshot()["service_level_pct"] == 100.0


def test_buttons_toggle_presence_and_leds():
    b, effects = run([press(1, 1)])
    assert b.presence(1) == "available" and ("led", 1, "GREEN") in effects
    effects = b.apply(press(2, 1, "BREAK"))
    assert b.presence(1) == "break" and ("led", 1, "AMBER") in effects
    b.apply(press(3, 1, "BREAK"))
    assert b.presence(1) == "available"
    effects = b.apply(press(4, 1))
    assert b.presence(1) == "offline" and ("led", 1, "OFF") in effects


def test_invalid_events_are_rejected_without_changing_state():
    b, _ = run([sms(1, "+1", "hi")])
    bad = (
        {"k": "reply", "t": 2, "conv": 1, "text": "waiting, not assigned"},
        {"k": "reply", "t": 2, "conv": 99, "text": "x"},
        {"k": "close", "t": 2, "conv": 1},
        {"k": "button", "t": 2, "desk": 9, "button": "AVAIL"},
        {"k": "button", "t": 2, "desk": 1, "button": "SELF_DESTRUCT"},
        {"k": "presence", "t": 2, "desk": 1, "state": "asleep"},
        {"k": "sms_sent", "t": 2, "out": 5},
        {"k": "uplink_ack", "t": 2, "seq": 5},
        {"k": "sms_in", "t": 2, "modem": "m0", "from": None, "text": "x"},
        {"k": "launch", "t": 2},
        {"k": "tick"},
        {"k": "presence", "t": 2, "desk": 1, "state": []},
        {"k": "reply", "t": 2, "conv": [1], "text": "x"},
        {"k": "button", "t": 2, "desk": [1], "button": "AVAIL"},
        {"k": "button", "t": 2, "desk": True, "button": "AVAIL"},
        {"k": "sms_sent", "t": 2, "out": {}},
    )
    for ev in bad:
        with raises(branch.Rejected):
            b.apply(ev)
    assert b.events_applied == 1 and len(b.conversations) == 1


def test_replay_rebuilds_the_same_state_and_owed_effects():
    events = [
        sms(1000, "+1", "hi"),
        sms(1500, "+2", "loan"),
        press(2000, 1),
        {"k": "reply", "t": 3000, "conv": 1, "text": "Hello 1"},
        {"k": "reply", "t": 3100, "conv": 2, "text": "Hello 2"},
        {"k": "sms_sent", "t": 3200, "out": 1, "ok": True},
        {"k": "close", "t": 4000, "conv": 1},
        {"k": "tick", "t": 5000},
    ]
    first, _ = run(events)
    second, _ = run(events)
    assert first.pending_effects() == second.pending_effects()
    assert first.state_summary() == second.state_summary()
    owed = first.pending_effects()
    assert [e[1] for e in kinds(owed, "send_sms")] == [2]  # reply 2 was never confirmed sent
    assert [e[2] for e in kinds(owed, "uplink")] == ["session", "metrics"]
