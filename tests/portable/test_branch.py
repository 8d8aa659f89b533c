"""The branch core: queueing, presence, assignment within caps, replies, wrap-up, outboxes,
and deterministic replay (same journal, same state, same owed effects)."""

import json

from check import raises

from branchline import text
from branchline.core import branch, concat, config, conversation, jsonfmt
from branchline.router import Router

CFG = config.validate(
    {
        "site": "s1",
        "device": "d1",
        "modems": [],
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
    assert text.ascii_lower("LOAN Épargne") == "loan Épargne"
    assert b.queue_for("LoAn") == "loans"


def test_waiting_conversations_go_to_the_agent_who_becomes_available():
    b, effects = run([sms(1000, "+1", "hi"), sms(2000, "+2", "loan please"), press(5000, 1)])
    assigned = kinds(effects, "offered")
    assert [(a[1], a[2]) for a in assigned] == [(1, 1), (2, 1)]
    assert b.conversations[1].as_dict()["offered"] == 5000
    assert ("led", 1, "GREEN_BLINK") in effects  # offered: blinking until taken up
    effects = b.apply({"k": "accept", "t": 6000, "conv": 1})
    assert kinds(effects, "led") == []  # conversation 2 is still offered
    effects = b.apply({"k": "accept", "t": 6000, "conv": 2})
    assert kinds(effects, "led") == [("led", 1, "RED")]  # at its cap of 2


def test_cap_is_never_exceeded_and_the_next_free_slot_is_used():
    events = [press(0, 2)] + [sms(10 + i, "+%d" % i, "hi") for i in range(3)]
    b, effects = run(events)
    assert [a[2] for a in kinds(effects, "offered")] == [2]
    assert b.router.agent_load(1) == 1
    more = b.apply({"k": "close", "t": 100, "conv": 1})
    assert [(a[1], a[2]) for a in kinds(more, "offered")] == [(2, 2)]


def test_second_message_from_a_customer_joins_the_open_conversation():
    b, _ = run([sms(1, "+1", "hi"), sms(2, "+1", "still there?")])
    assert len(b.conversations) == 1
    assert [m["text"] for m in b.conversations[1].as_dict()["messages"]] == ["hi", "still there?"]


def test_same_fingerprint_is_one_message():
    b, _ = run([sms(1, "+1", "hi", fp="m0:1"), sms(5, "+1", "hi", fp="m0:1")])
    assert b.conversations[1].message_count() == 1


def test_reply_goes_to_the_sms_outbox_until_sent():
    b, _ = run([sms(1000, "+1", "hi"), press(2000, 1)])
    effects = b.apply({"k": "reply", "t": 3000, "conv": 1, "text": "Hello!"})
    (send,) = kinds(effects, "send_sms")
    assert send[2:] == ("m0", "+1", "Hello!")
    assert b.sms_outbox and b.metrics.summary()["first_response_ms"] == 2000
    b.apply({"k": "sms_sent", "t": 3500, "out": send[1], "ok": True, "modem": "m0", "mr": [5]})
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
    assert (session["created"], session["offered"], session["accepted"]) == (1000, 31000, 32000)
    assert session["closed"] == 91000 and session["outcome"] == "resolved"
    assert [m["dir"] for m in session["messages"]] == ["in", "out"]
    assert not kinds(effects, "led")  # 1 of 2 slots before and 0 after: GREEN throughout
    (tick,) = kinds(b.apply({"k": "metrics", "t": 92000}), "uplink")
    m = tick[3]["metrics"]["day"]["all"]
    assert (m["offered"], m["answered"], m["handled"]) == (1, 1, 1)
    assert m["asa_ms"] == 31000 and m["handle_ms"] == 59000 and m["service_level_pm"] == 1000
    assert tick[3]["metrics"]["live"] == {"waiting": 0, "agents_available": 1}
    b.apply({"k": "uplink_ack", "t": 93000, "seq": seq})
    assert list(b.uplink_outbox) == [tick[1]]


def accept(t, conv):
    return {"k": "accept", "t": t, "conv": conv}


def test_service_level_counts_slow_answers_against_it():
    b, _ = run([sms(0, "+1", "a"), sms(0, "+2", "b"), press(1000, 1), accept(41000, 1),
                accept(41000, 2)])
    assert b.metrics.summary()["service_level_pm"] == 0
    b2, _ = run([sms(0, "+1", "a"), press(1000, 1), accept(40000, 1)])
    assert b2.metrics.summary()["service_level_pm"] == 1000


def test_offered_is_not_answered_until_the_desk_takes_it_up():
    b = branch_with(offer_timeout_s=20)
    b.apply(press(0, 1))
    effects = b.apply(sms(1000, "+1", "hi"))
    assert ("offered", 1, 1) in effects
    doc = b.conversations[1].as_dict()
    assert (doc["state"], doc["desk"], doc["offered"], doc["offer_deadline"]) == (
        "offered", 1, 1000, 21000)
    assert doc["accepted"] is None and b.metrics.summary()["answered"] == 0
    effects = b.apply(accept(5000, 1))
    assert ("accepted", 1, 1) in effects
    doc = b.conversations[1].as_dict()
    assert (doc["state"], doc["accepted"], doc["offer_deadline"]) == ("active", 5000, None)
    m = b.metrics.summary()
    assert (m["answered"], m["asa_ms"]) == (1, 4000)
    with raises(branch.Rejected, match="conversation 1 is active"):
        b.apply(accept(6000, 1))
    b.apply({"k": "tick", "t": 60000})  # no offer timeout once accepted
    assert b.desk_of(1) == 1


def test_offers_that_time_out_are_not_answered():
    # Both offers run out unanswered: nobody was answered, whatever the desk's LED said.
    b = branch_with(offer_timeout_s=20, max_missed_offers=2,
                    desks=[{"desk": 1, "cap": 2, "queues": ["general"]},
                           {"desk": 2, "cap": 1, "queues": ["loans"]}])
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    b.apply(sms(1000, "+2", "hello"))
    effects = b.apply({"k": "tick", "t": 21000})
    m = b.metrics.summary()
    assert (m["offered"], m["answered"], m["service_level_pm"]) == (2, 0, None)
    assert ("missed_break", 1) in effects and b.presence(1) == "break"
    assert [c.state for c in b.conversations.values()] == ["queued", "queued"]
    assert kinds(b.apply({"k": "tick", "t": 22000}), "missed_break") == []  # said once


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
        {"k": "reply", "t": 2, "conv": 1, "text": "waiting, not offered"},
        {"k": "accept", "t": 2, "conv": 1},
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
        {"k": "sms_sent", "t": 3200, "out": 1, "ok": True, "modem": "m0", "mr": [0]},
        {"k": "close", "t": 4000, "conv": 1},
        {"k": "metrics", "t": 5000},
    ]
    first, _ = run(events)
    second, _ = run(events)
    assert first.pending_effects() == second.pending_effects()
    assert first.state_summary() == second.state_summary()
    owed = first.pending_effects()
    assert [e[1] for e in kinds(owed, "send_sms")] == [2]  # reply 2 was never confirmed sent
    assert [e[2] for e in kinds(owed, "uplink")] == ["session", "metrics"]


def reply_sent(t=3000):
    """A branch with conversation 1 (from +1) at desk 1, and its reply in the outbox."""
    b, _ = run([sms(1000, "+1", "hi"), press(2000, 1)])
    (send,) = kinds(b.apply({"k": "reply", "t": t, "conv": 1, "text": "Hello!"}), "send_sms")
    return b, send[1]


def test_temporary_failures_retry_with_backoff_then_give_up():
    b, out = reply_sent()
    b.apply({"k": "sms_sent", "t": 4000, "out": out, "ok": False, "kind": "temporary",
             "reason": "network timeout (CMS 332)"})
    assert b.conversations[1].deliveries[out] == "retrying"
    assert b.next_due() == 4000 + 30000
    assert b.pending_effects()[0][0] != "send_sms"  # not owed until the retry is due
    assert kinds(b.apply({"k": "tick", "t": 33999}), "send_sms") == []
    (again,) = kinds(b.apply({"k": "tick", "t": 34000}), "send_sms")
    assert again[1:] == (out, "m0", "+1", "Hello!")
    t = 34000
    for backoff in (120, 600, 1800):
        b.apply({"k": "sms_sent", "t": t, "out": out, "ok": False, "kind": "temporary"})
        t += backoff * 1000
        assert len(kinds(b.apply({"k": "tick", "t": t}), "send_sms")) == 1
    b.apply({"k": "sms_sent", "t": t, "out": out, "ok": False, "kind": "temporary",
             "reason": "still busy"})
    assert out not in b.sms_outbox and b.conversations[1].deliveries[out] == "failed"
    assert b.conversations[1].as_dict()["messages"][-1] == {
        "dir": "failed", "t": t, "text": "still busy"}


def test_permanent_failure_is_final_and_modem_failure_frees_the_modem_choice():
    b, out = reply_sent()
    b.apply({"k": "sms_sent", "t": 4000, "out": out, "ok": False, "kind": "permanent"})
    assert out not in b.sms_outbox
    b2, out2 = reply_sent()
    b2.apply({"k": "sms_sent", "t": 4000, "out": out2, "ok": False, "kind": "modem"})
    (again,) = kinds(b2.apply({"k": "tick", "t": 34000}), "send_sms")
    assert again[2] is None  # any modem that can send


def test_status_reports_settle_delivery_of_every_part():
    b, out = reply_sent()
    b.apply({"k": "sms_sent", "t": 4000, "out": out, "ok": True, "modem": "m0", "mr": [8, 9]})
    assert b.conversations[1].deliveries[out] == "sent"
    b.apply({"k": "sms_status", "t": 5000, "modem": "m0", "mr": 8, "status": "delivered"})
    assert b.conversations[1].deliveries[out] == "sent"  # part 2 still outstanding
    b.apply({"k": "sms_status", "t": 5000, "modem": "m0", "mr": 9, "status": "pending"})
    assert b.conversations[1].part_states[out] == ["delivered", "pending"]
    b.apply({"k": "sms_status", "t": 6000, "modem": "m0", "mr": 9, "status": "delivered"})
    assert b.conversations[1].deliveries[out] == "delivered"
    assert b.conversations[1].as_dict()["deliveries"] == [
        {"out": out, "state": "delivered", "parts": ["delivered", "delivered"]}]
    b.apply({"k": "sms_status", "t": 7000, "modem": "m1", "mr": 8, "status": "failed"})
    assert b.conversations[1].deliveries[out] == "delivered"  # another modem's reference


def test_long_message_parts_in_any_order_make_one_message():
    b = branch.Branch(CFG)
    parts = [(3, "three"), (1, "one "), (2, "two ")]
    for i, (seq, text) in enumerate(parts):
        ev = sms(1000 + i, "+1", text, fp="m0:%d" % seq)
        ev["concat"] = [7, 3, seq]
        b.apply(ev)
    b.apply(dict(ev))  # the same part read twice: the fingerprint drops it
    assert [m["text"] for m in b.conversations[1].as_dict()["messages"]] == ["one two three"]


def test_a_message_the_modem_cut_short_is_shown_marked():
    b = branch.Branch(CFG)
    cut = sms(1000, "+1", "my card was swal")
    cut["truncated"] = True
    b.apply(cut)
    b.apply(sms(2000, "+1", "hello?"))
    messages = b.conversations[1].as_dict()["messages"]
    assert [(m["text"], m.get("truncated")) for m in messages] == [
        ("my card was swal", True), ("hello?", None)]
    # A long message with a part cut short is marked as a whole.
    for seq, text in ((1, "one "), (2, "tw")):
        ev = sms(3000 + seq, "+2", text)
        ev["concat"] = [5, 2, seq]
        if seq == 2:
            ev["truncated"] = True
        b.apply(ev)
    (long,) = b.conversations[2].as_dict()["messages"]
    assert long["text"] == "one tw" and long["truncated"] is True
    # The marks, like every time in the thread, survive a snapshot.
    b.apply(sms(5000, "+3", "no cut here"))
    copy = branch.Branch(CFG)
    copy.load(json.loads(jsonfmt.dumps(b.dump())))
    for conv_id in (1, 2, 3):
        assert copy.conversations[conv_id].as_dict() == b.conversations[conv_id].as_dict()
    # A restored conversation takes a message cut short as the original does.
    for core in (b, copy):
        late = sms(6000, "+3", "and then")
        late["truncated"] = True
        core.apply(late)
    assert copy.conversations[3].as_dict() == b.conversations[3].as_dict()
    assert copy.conversations[3].as_dict()["messages"][1]["truncated"] is True


def test_a_long_message_missing_a_part_arrives_marked_after_the_timeout():
    b = branch.Branch(CFG)
    ev = sms(1000, "+1", "first half ")
    ev["concat"] = [9, 2, 1]
    b.apply(ev)
    assert not b.conversations and b.next_due() == 1000 + 600000
    b.apply({"k": "tick", "t": 601000})
    (conv,) = b.conversations.values()
    assert conv.as_dict()["messages"][0]["text"] == "first half " + concat.GAP_MARKER


def test_missed_call_becomes_one_callback_request_in_the_callers_last_queue():
    b, _ = run([sms(0, "+1", "about my loan"), press(1, 1)])
    b.apply({"k": "close", "t": 2, "conv": 1})
    effects = b.apply({"k": "call", "t": 10, "modem": "m0", "from": "+1", "rings": 2})
    conv = b.conversations[2]
    assert conv.kind == "callback" and conv.queue == "loans"
    (ack,) = kinds(effects, "send_sms")
    assert ack[3] == "+1" and ack[4] == CFG["callback_ack"]["en"]
    effects = b.apply({"k": "call", "t": 20, "modem": "m0", "from": "+1", "rings": 1})
    assert kinds(effects, "send_sms") == [] and len(b.conversations) == 1
    assert [m["dir"] for m in conv.as_dict()["messages"]] == ["call", "auto", "call"]
    b.apply({"k": "call", "t": 30, "modem": "m0", "from": "+2", "rings": 0})
    assert b.conversations[3].queue == "general"  # a stranger: the first queue


def test_a_reply_longer_than_the_configured_parts_is_refused_with_the_count():
    b, _ = run([sms(1000, "+1", "hi"), press(2000, 1)])
    with raises(branch.Rejected, match="reply too long: 7 SMS parts, at most 6"):
        b.apply({"k": "reply", "t": 3000, "conv": 1, "text": "x" * (153 * 6 + 1)})
    b.apply({"k": "reply", "t": 3000, "conv": 1, "text": "x" * (153 * 6)})


def test_a_wrapped_message_reference_settles_the_newest_send():
    b, first = reply_sent()
    b.apply({"k": "sms_sent", "t": 4000, "out": first, "ok": True, "modem": "m0", "mr": [255]})
    (second,) = kinds(b.apply({"k": "reply", "t": 5000, "conv": 1, "text": "again"}), "send_sms")
    b.apply({"k": "sms_sent", "t": 5100, "out": second[1], "ok": True, "modem": "m0", "mr": [0]})
    (third,) = kinds(b.apply({"k": "reply", "t": 6000, "conv": 1, "text": "and again"}), "send_sms")
    # 255 sends later the modem's 8-bit reference comes round to 255 again.
    b.apply({"k": "sms_sent", "t": 6100, "out": third[1], "ok": True, "modem": "m0", "mr": [255]})
    b.apply({"k": "sms_status", "t": 7000, "modem": "m0", "mr": 255, "status": "delivered"})
    deliveries = b.conversations[1].deliveries
    assert (deliveries[first], deliveries[second[1]], deliveries[third[1]]) == (
        "sent", "sent", "delivered")


def branch_with(**changes):
    """A branch whose configuration differs from CFG by `changes` (queues/desks included)."""
    doc = {
        "site": "s1",
        "device": "d1",
        "modems": [],
        "queues": [
            {"name": "general", "keywords": []},
            {"name": "loans", "keywords": ["loan"]},
        ],
        "desks": [
            {"desk": 1, "cap": 2, "queues": ["general", "loans"]},
            {"desk": 2, "cap": 1, "queues": ["general"]},
        ],
    }
    doc.update(changes)
    return branch.Branch(config.validate(doc))


def test_an_offer_nobody_takes_up_goes_back_and_missed_offers_mean_a_break():
    b = branch_with(offer_timeout_s=20, max_missed_offers=2,
                    desks=[{"desk": 1, "cap": 1, "queues": ["general", "loans"]},
                           {"desk": 2, "cap": 1, "queues": ["general"]}])
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    assert b.desk_of(1) == 1
    effects = b.apply({"k": "tick", "t": 21000})
    assert ("offered", 1, 1) in effects  # back at the head, offered again: desk 1 is free
    effects = b.apply({"k": "tick", "t": 41000})
    assert b.presence(1) == "break" and ("led", 1, "RED_BLINK") in effects
    assert b.conversations[1].state == "queued"
    b.apply(press(42000, 2))
    assert b.desk_of(1) == 2


def test_the_first_reply_takes_the_offer_up():
    b = branch_with(offer_timeout_s=20)
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    b.apply({"k": "reply", "t": 5000, "conv": 1, "text": "Hello"})
    b.apply({"k": "tick", "t": 60000})
    assert b.desk_of(1) == 1 and b.conversations[1].state == "active"
    assert b.conversations[1].as_dict()["accepted"] == 5000


def test_wrap_up_after_a_close_then_back_to_available():
    b = branch_with(desks=[{"desk": 1, "cap": 1, "queues": ["general"], "wrapup_s": 30},
                           {"desk": 2, "cap": 1, "queues": ["loans"]}])
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    b.apply(sms(1500, "+2", "hello"))
    effects = b.apply({"k": "close", "t": 2000, "conv": 1})
    assert b.presence(1) == "wrapup" and ("led", 1, "AMBER_BLINK") in effects
    assert b.conversations[2].state == "queued"
    effects = b.apply({"k": "tick", "t": 32000})
    assert ("offered", 2, 1) in effects


def test_manual_queue_waits_for_next():
    b = branch_with(queues=[{"name": "general", "strategy": "manual"}, {"name": "loans"}],
                    desks=[{"desk": 1, "cap": 2, "queues": ["general"]}])
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    assert b.desk_of(1) is None
    effects = b.apply(press(2000, 1, "NEXT"))
    assert ("offered", 1, 1) in effects
    assert kinds(b.apply(press(3000, 1, "NEXT")), "refused") == []  # nothing left: fine


def test_transfer_to_a_desk_and_to_a_queue():
    b, _ = run([press(0, 1), sms(1000, "+1", "hi"), sms(1100, "+2", "yo")])
    assert (b.desk_of(1), b.desk_of(2)) == (1, 1)
    b.apply({"k": "close", "t": 1200, "conv": 2})
    b.apply(press(1300, 2))
    effects = b.apply({"k": "transfer", "t": 2000, "conv": 1, "desk": 2})
    assert ("returned", 1, 1) in effects and ("offered", 1, 2) in effects
    effects = b.apply({"k": "transfer", "t": 3000, "conv": 1, "queue": "loans"})
    assert b.conversations[1].queue == "loans" and b.desk_of(1) == 1  # desk 2 lacks loans
    with raises(branch.Rejected):
        b.apply({"k": "transfer", "t": 3000, "conv": 1, "queue": "mortgages"})


def test_escalation_frees_the_desk_and_goes_to_head_office():
    b, _ = run([press(0, 1), sms(1000, "+1", "complaint")])
    effects = b.apply({"k": "escalate", "t": 2000, "conv": 1, "note": "fraud"})
    (up,) = kinds(effects, "uplink")
    assert up[2] == "escalation" and up[3]["escalation"]["customer"] == "+1"
    assert b.conversations[1].state == "remote" and b.router.agent_load(0) == 0
    (session,) = kinds(b.apply({"k": "close", "t": 3000, "conv": 1}), "uplink")
    assert session[3]["session"]["state"] == "closed"


def test_supervisor_assigns_within_the_cap_unless_forced():
    b, _ = run([press(0, 2), sms(1000, "+1", "a"), sms(1100, "+2", "b")])
    assert b.desk_of(1) == 2 and b.desk_of(2) is None
    with raises(branch.Rejected, "desk 2 is at its cap (1): only a forced assignment"):
        b.apply({"k": "assign", "t": 2000, "conv": 2, "desk": 2})
    assert b.desk_of(2) is None
    with raises(branch.Rejected, "desk 1 is offline: only a forced assignment"):
        b.apply({"k": "assign", "t": 2000, "conv": 2, "desk": 1})
    effects = b.apply({"k": "assign", "t": 2000, "conv": 2, "desk": 2, "force": True})
    assert b.desk_of(2) == 2


def test_vip_goes_ahead_of_those_who_waited_less():
    b = branch_with(vip_numbers=["+99"], vip_priority_s=60)
    b.apply(sms(0, "+1", "early"))
    b.apply(sms(30000, "+2", "later"))
    b.apply(sms(40000, "+99", "vip"))
    b.apply({"k": "presence", "t": 41000, "desk": 2, "state": "available"})
    assert b.desk_of(3) == 2  # waited 1 s, but 60 s of priority beats 41 s and 11 s


def test_next_due_names_router_timers_and_backup_tiers():
    b = branch_with(offer_timeout_s=20,
                    queues=[{"name": "general", "backup_after_s": 30}, {"name": "loans"}],
                    desks=[{"desk": 1, "cap": 1, "queues": ["loans"], "backup_queues": ["general"]},
                           {"desk": 2, "cap": 1, "queues": ["loans"]}])
    b.apply(press(0, 1))
    b.apply(sms(1000, "+1", "hi"))
    assert b.desk_of(1) is None and b.next_due() == 31000  # desk 1 only backs general up
    effects = b.apply({"k": "tick", "t": 31000})
    assert ("offered", 1, 1) in effects
    assert b.next_due() == 31000 + 20000  # the offer's timeout
    b.apply({"k": "reply", "t": 32000, "conv": 1, "text": "hello"})
    # The router may keep the cancelled deadline (early, never late): one idle tick.
    assert b.next_due() in (900000, 51000)
    b.apply({"k": "tick", "t": 51000})
    # Nothing left but the end of the figures' 15-minute interval.
    assert b.next_due() == 900000 and b.desk_of(1) == 1


def test_supervisor_assignment_is_an_offer_and_closes_cleanly():
    b = branch_with(desks=[{"desk": 1, "cap": 1, "queues": ["general"]},
                           {"desk": 2, "cap": 1, "queues": ["general"]}])
    b.apply(sms(1000, "+1", "about a loan"))  # loans: nobody serves it
    b.apply({"k": "presence", "t": 2000, "desk": 2, "state": "available"})
    effects = b.apply({"k": "assign", "t": 3000, "conv": 1, "desk": 2})
    assert ("offered", 1, 2) in effects and b.conversations[1].as_dict()["offered"] == 3000
    assert b.metrics.summary()["answered"] == 0
    # Closing an offered conversation deals with it: it counts as answered then.
    effects = b.apply({"k": "close", "t": 9000, "conv": 1})
    (up,) = kinds(effects, "uplink")
    assert up[3]["session"]["desk"] == 2 and up[3]["session"]["accepted"] == 9000
    m = b.metrics.summary()
    assert (m["answered"], m["asa_ms"], m["handle_ms"]) == (1, 8000, 0)


def test_a_reply_or_close_at_the_offer_deadline_meets_the_state_after_the_timeout():
    b = branch_with(offer_timeout_s=120)
    b.apply(press(1000, 1))
    b.apply(sms(2000, "+1", "hi"))
    # The offer ran out at 122000; no tick came in between (a clock step, say).
    effects = b.apply({"k": "reply", "t": 122000, "conv": 1, "text": "sorry, here now"})
    assert kinds(effects, "refused") == [] or b.conversations[1].state in conversation.HELD
    b2 = branch_with(offer_timeout_s=120, max_missed_offers=1)
    b2.apply(press(1000, 1))
    b2.apply(sms(2000, "+1", "hi"))
    effects = b2.apply({"k": "close", "t": 122000, "conv": 1})
    (refused,) = kinds(effects, "refused")
    assert "close" in refused[1] and b2.conversations[1].state == "queued"
    assert b2.presence(1) == "break"


def test_escalating_a_conversation_its_full_queue_held_back():
    b = branch_with(queue_capacity=1)
    b.apply(sms(1000, "+1", "hi"))
    b.apply(sms(1001, "+2", "hi"))  # general is full: held back outside it
    assert b.state_summary()["held"] == 1 and b.router.conv_state(2) is None
    b.apply({"k": "escalate", "t": 1500, "conv": 2})
    assert b.conversations[2].state == "remote" and b.state_summary()["held"] == 0
    b.apply({"k": "close", "t": 2000, "conv": 2})
    assert 2 not in b.conversations and b.router.queue_length(0) == 1


def test_a_late_report_for_a_reused_reference_is_not_taken_for_the_new_message():
    b, out = reply_sent()
    b.apply({"k": "sms_sent", "t": 4000, "out": out, "ok": True, "modem": "m0", "mr": [17]})
    # A report for the message that had TP-MR 17 one wrap earlier, to another number.
    b.apply({"k": "sms_status", "t": 5000, "modem": "m0", "mr": 17, "to": "+4915112345678",
             "status": "failed"})
    assert b.conversations[1].deliveries[out] == "sent"
    b.apply({"k": "sms_status", "t": 6000, "modem": "m0", "mr": 17, "to": "1",
             "status": "delivered"})
    assert b.conversations[1].deliveries[out] == "delivered"  # "+1" written as "1"


def test_conversations_a_full_queue_held_back_are_queued_as_room_appears():
    b = branch_with(queue_capacity=2)
    for i in range(4):
        b.apply(sms(1000 + i, "+%d" % i, "hi"))  # general: two queued, two held
    b.apply(sms(2000, "+9", "loan"))  # loans is not full: not held back by general
    assert b.state_summary()["held"] == 2 and b.router.queue_length(1) == 1
    assert [b.router.conv_state(c) for c in (3, 4)] == [None, None]
    b.apply(sms(2500, "+8", "hi"))  # behind those held back, though nothing was freed
    b.apply({"k": "escalate", "t": 3000, "conv": 1})  # room in general: the oldest held
    assert b.state_summary()["held"] == 2 and b.router.position(3) == 1
    b.apply(press(4000, 2))  # desk 2 takes conversation 2: room for the next, 4
    assert b.desk_of(2) == 2 and b.router.position(4) == 1
    assert b.state_summary()["held"] == 1 and b.router.conv_state(6) is None


def test_a_modem_refusal_waits_for_a_modem_instead_of_failing_the_reply():
    b, out = reply_sent()
    t = 4000
    for _ in range(10):  # more refusals than backoff steps: no SIM anywhere for a while
        b.apply({"k": "sms_sent", "t": t, "out": out, "ok": False, "kind": "modem"})
        t = b.outbox.next_due()
        assert len(kinds(b.apply({"k": "tick", "t": t}), "send_sms")) == 1
    assert b.conversations[1].deliveries[out] == "sending"
    b.apply({"k": "sms_sent", "t": 3000 + 24 * 3600 * 1000, "out": out, "ok": False,
             "kind": "modem"})
    assert b.conversations[1].deliveries[out] == "failed"  # a day late: given up


def test_the_led_blinks_while_an_offer_waits_and_stops_however_it_ends():
    b = branch_with(offer_timeout_s=20, max_missed_offers=0)
    leds = lambda effects: [e[2] for e in kinds(effects, "led") if e[1] == 2]  # noqa: E731
    assert leds(b.apply(press(0, 2))) == ["GREEN"]
    assert leds(b.apply(sms(1000, "+1", "hi"))) == ["GREEN_BLINK"]
    assert leds(b.apply({"k": "tick", "t": 21000})) == []  # run out, and offered again
    assert b.desk_status(2)["led"] == "GREEN_BLINK"
    assert leds(b.apply(sms(22000, "+1", "cancel"))) == ["GREEN"]  # the customer gave up
    b.apply(sms(23000, "+2", "hello"))
    assert leds(b.apply({"k": "close", "t": 24000, "conv": 2})) == ["GREEN"]
    b.apply(sms(25000, "+3", "hello"))
    assert leds(b.apply({"k": "accept", "t": 26000, "conv": 3})) == ["RED"]  # at its cap of 1
    assert b.desk_status(2)["led"] == "RED"
