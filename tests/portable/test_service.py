"""The service around conversations in the branch: self-service with hand-off, FAQ
containment, opening hours (after-hours reply, callback, offered first at opening,
service level inside hours), reopening, and the wrap-up record."""

import json

from check import raises
from menu_config import MENU

from branchline.core import branch, config, jsonfmt
from branchline.core.tz import days_from_civil

MON = (days_from_civil(2026, 12, 7) * 86400 - 8 * 3600) * 1000  # Monday 00:00 in HK
S = 1000
H = 3600 * S


def make(**changes):
    doc = {
        "site": "s1", "device": "d1", "modems": [],
        "languages": ["en", "zh"], "timezone": "HKT-8",
        "hours": {"weekly": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]}},
        "queues": [{"name": "general"}, {"name": "accounts", "wrapup_required": ["disposition"]},
                   {"name": "cards"}],
        "desks": [{"desk": 1, "cap": 2, "queues": ["general", "accounts", "cards"]},
                  {"desk": 2, "cap": 1, "queues": ["general", "accounts", "cards"]}],
        "dispositions": [{"code": "info"}, {"code": "complaint", "sub": [{"code": "fees"}]}],
        "menu": MENU,
        "offer_timeout_s": 0,
    }
    doc.update(changes)
    return branch.Branch(config.validate(doc))


class Run:
    def __init__(self, b):
        self.b = b
        self.sent = []  # (to, text)
        self.uplinks = []

    def ev(self, t, k, **fields):
        fields.update({"k": k, "t": t})
        effects = self.b.apply(fields)
        for e in effects:
            if e[0] == "send_sms":
                self.sent.append((e[3], e[4]))
            elif e[0] == "uplink":
                self.uplinks.append((e[2], e[3][e[2]]))
        return effects

    def sms(self, t, who, text):
        return self.ev(t, "sms_in", modem="m0", **{"from": who, "text": text})

    def modem_took_all(self, t):
        """The modem accepted every SMS waiting in the outbox."""
        for out_id in sorted(self.b.sms_outbox):
            self.ev(t, "sms_sent", out=out_id, modem="m0", mr=[out_id % 256])

    def texts_to(self, who):
        return [text for to, text in self.sent if to == who]

    def sessions(self):
        return [body for kind, body in self.uplinks if kind == "session"]


def test_a_menu_choice_hands_off_and_first_response_counts_from_there():
    r = Run(make())
    t = MON + 10 * H
    r.ev(t, "button", desk=1, button="AVAIL")
    r.sms(t + S, "+1", "hello")
    assert r.texts_to("+1") == [MENU["root"]["prompt"]["en"]]
    conv = r.b.conversations[1]
    assert conv.state == "self_service" and r.b.router.conv_state(1) is None
    r.sms(t + 60 * S, "+1", "1")
    assert conv.state == "offered" and conv.queue == "accounts" and conv.as_dict()["queued"] == t + 60 * S
    r.ev(t + 70 * S, "reply", conv=1, text="Hi, how can I help?")
    r.ev(t + 80 * S, "close", conv=1, disposition="info")
    day = r.b.metrics.report(t + 90 * S)["day"]["all"]
    assert (day["first_response_ms"], day["asa_ms"], day["self_service"]) == (10000, 10000, 1)
    (session,) = r.sessions()
    assert session["disposition"] == "info" and session["outcome"] == "resolved"
    # The menu's prompt is kept as which menu it was ("" the root), not its text.
    assert [(m["dir"], m["text"]) for m in session["messages"]] == [
        ("in", "hello"), ("menu", ""), ("in", "1"), ("out", "Hi, how can I help?")]


def test_an_faq_answer_contains_the_conversation_and_a_chinese_customer_reads_chinese():
    r = Run(make())
    t = MON + 10 * H
    r.sms(t, "+2", "你好")
    r.sms(t + S, "+2", "3")
    assert r.texts_to("+2") == [MENU["root"]["prompt"]["zh"], "今天营业 09:00-17:00。"]
    (session,) = r.sessions()
    assert session["contained"] is True and session["lang"] == "zh"
    assert r.b.conversations == {}
    day = r.b.metrics.report(t + 2 * S)["day"]["all"]
    assert (day["contained"], day["containment_pm"], day["offered"]) == (1, 1000, 0)


def test_after_hours_the_customer_hears_when_it_opens_once_and_is_offered_first():
    r = Run(make(menu={"root": MENU["root"], "handoff_keywords": ["0"]}))
    night = MON + 20 * H  # Monday 20:00
    r.ev(night, "button", desk=1, button="AVAIL")
    r.sms(night, "+3", "0")
    (reply,) = r.texts_to("+3")
    assert reply.startswith("We are closed now and open again Tue 09:00.")
    assert r.b.conversations[1].state == "queued" and r.b.router.conv_state(1) is None
    r.sms(night + H, "+3", "hello?")  # the same night: no second reply
    assert len(r.texts_to("+3")) == 1
    r.sms(night + 2 * H, "+4", "0")
    r.sms(night + 2 * H + S, "+4", "CALL")
    assert r.texts_to("+4")[-1] == r.b.config["callback_ack"]["en"]
    assert r.b.conversations[2].kind == "callback"
    opening = MON + 33 * H  # Tuesday 09:00
    while r.b.next_due() < opening:  # the night's report intervals end, nothing else
        r.ev(r.b.next_due(), "tick")
        assert r.b.conversations[1].state == "queued"
    assert r.b.next_due() == opening
    effects = r.ev(opening, "tick")
    assert [e[1] for e in effects if e[0] == "offered"] == [1, 2]  # in arrival order
    r.ev(opening + 20 * S, "accept", conv=1)
    day = r.b.metrics.report(opening + 30 * S)["day"]
    # 20 s inside opening hours; 13 h and 20 s of calendar time.
    assert day["all"]["asa_ms"] == 20000 and day["all"]["asa_calendar_ms"] == 13 * H + 20000
    assert day["all"]["service_level_pm"] == 1000
    assert day["all"]["service_level_calendar_pm"] == 0


def test_writing_again_soon_after_a_close_reopens_it_at_the_same_desk():
    r = Run(make(menu={"root": MENU["root"]}))
    t = MON + 10 * H
    r.ev(t, "button", desk=2, button="AVAIL")
    r.sms(t, "+5", "1")
    assert r.b.conversations[1].desk == 2
    r.ev(t + 10 * S, "reply", conv=1, text="Done.")
    r.ev(t + 20 * S, "close", conv=1, disposition="info")
    r.ev(t + 21 * S, "button", desk=1, button="AVAIL")
    r.sms(t + 60 * S, "+5", "one more thing")
    conv = r.b.conversations[1]  # the same id: one thread
    assert (conv.desk, conv.state, conv.reopened, conv.queue) == (2, "offered", 1, "accounts")
    r.ev(t + 70 * S, "close", conv=1, disposition="info")
    # Desk 2 is busy now: a reopen goes to the front of the queue instead.
    r.sms(t + 80 * S, "+6", "1")
    r.sms(t + 81 * S, "+7", "1")
    r.ev(t + 82 * S, "button", desk=1, button="AVAIL")  # desk 1 away: both wait
    r.sms(t + 90 * S, "+5", "and another")
    assert r.b.router.position(1) == 0
    # Past the window a message starts a new conversation.
    r2 = Run(make(menu={"root": MENU["root"]}, reopen_window_s=60))
    r2.sms(t, "+8", "3")
    r2.sms(t + 61 * S, "+8", "hi")
    assert sorted(r2.b.conversations) == [2]


def test_closing_without_a_required_disposition_is_refused_with_the_reason():
    r = Run(make(menu={"root": MENU["root"]}))
    t = MON + 10 * H
    r.ev(t, "button", desk=1, button="AVAIL")
    r.sms(t, "+9", "1")
    r.ev(t + S, "accept", conv=1)
    r.ev(t + 2 * S, "wrapup", conv=1)
    assert r.b.conversations[1].state == "wrapup"
    with raises(branch.Rejected, "queue accounts requires a disposition to close"):
        r.b.check({"k": "close", "t": t + 3 * S, "conv": 1})
    with raises(branch.Rejected, "unknown disposition 'complaint'"):
        r.b.check({"k": "close", "t": t + 3 * S, "conv": 1, "disposition": "complaint"})
    r.sms(t + 4 * S, "+9", "wait, one more question")  # back to active
    assert r.b.conversations[1].state == "active"
    r.ev(t + 5 * S, "close", conv=1, disposition="complaint/fees", summary="fee refunded")
    (session,) = r.sessions()
    assert (session["disposition"], session["summary"]) == ("complaint/fees", "fee refunded")


def test_a_silent_customer_in_the_menu_is_let_go_and_the_state_survives_a_snapshot():
    r = Run(make())
    t = MON + 10 * H
    r.sms(t, "+10", "hi")
    r.sms(t + S, "+11", "hi")
    saved = jsonfmt.dumps(r.b.dump())
    again = make()
    again.load(json.loads(saved))
    assert jsonfmt.dumps(again.dump()) == saved
    again.apply({"k": "tick", "t": t + 2 * S})  # a restored router looks again at once
    assert again.next_due() == t + 15 * 60 * S  # the report interval, then the menu's
    again.apply({"k": "tick", "t": t + 15 * 60 * S})
    assert again.next_due() == t + 1800 * S
    effects = again.apply({"k": "tick", "t": t + 1800 * S})
    sessions = [e[3]["session"] for e in effects if e[0] == "uplink"]
    assert [(s["id"], s["outcome"]) for s in sessions] == [(1, "abandoned")]
    assert sorted(again.conversations) == [2]


def test_a_survey_after_the_close_takes_its_answer_and_a_non_answer_opens_a_conversation():
    r = Run(make(queues=[{"name": "general", "survey": True}, {"name": "accounts"},
                         {"name": "cards"}], survey_delay_s=60, survey_window_s=3600))
    t = MON + 10 * H
    r.ev(t, "button", desk=1, button="AVAIL")
    r.sms(t, "+20", "0")  # straight to a person
    r.ev(t + 10 * S, "reply", conv=1, text="Sorted.")
    r.ev(t + 20 * S, "close", conv=1)
    assert r.b.next_due() <= t + 80 * S
    while r.b.next_due() <= t + 80 * S:
        r.ev(r.b.next_due(), "tick")
    assert r.texts_to("+20")[-1] == "How did we do? Reply 1 (poor) to 5 (excellent)."
    r.sms(t + 200 * S, "+20", "4")
    assert r.texts_to("+20")[-1] == "Thank you for your feedback."
    assert r.b.conversations == {}  # the answer opened nothing
    day = r.b.metrics.report(t + 300 * S)["day"]
    assert day["all"]["csat_avg_milli"] == 4000
    assert day["all"]["csat_distribution"] == [0, 0, 0, 1, 0]
    assert day["desks"]["1"]["csat_response_rate_pm"] == 1000
    # Surveyed within the cooldown: the next close sends none; and a reply that is no
    # score is a message like any other.
    r.sms(t + 2 * H, "+20", "0")
    r.ev(t + 2 * H + S, "close", conv=2)
    while r.b.next_due() <= t + 3 * H:
        r.ev(r.b.next_due(), "tick")
    assert r.texts_to("+20").count("How did we do? Reply 1 (poor) to 5 (excellent).") == 1
    r.sms(t + 3 * H, "+20", "5 stars!")
    assert len(r.b.conversations) == 1


def test_position_messages_are_rate_limited_and_capped():
    r = Run(make(queues=[{"name": "general", "position_updates": True}, {"name": "accounts"},
                         {"name": "cards"}], max_position_sms=2, position_update_s=120,
                 menu={"root": MENU["root"]}))
    t = MON + 10 * H
    r.ev(t, "button", desk=1, button="AVAIL")
    for i in range(4):  # desk 1 takes two, the others wait
        r.sms(t + i * S, "+3%d" % i, "0")
    assert r.texts_to("+32") == ["You are number 1 in line, expected wait about 3 minutes."]
    assert r.texts_to("+33") == ["You are number 2 in line, expected wait about 5 minutes."]
    r.ev(t + 30 * S, "close", conv=1)  # +32 is offered now
    end = t + 30 * 60 * S
    while r.b.next_due() <= end:
        r.ev(r.b.next_due(), "tick")
    # One more once its place changed, then the cap: never a third.
    assert r.texts_to("+33") == ["You are number 2 in line, expected wait about 5 minutes.",
                                 "You are number 1 in line, expected wait about 1 minutes."]


def test_an_unreached_callback_is_tried_again_then_closed_unreached():
    r = Run(make(callback_retry_s=600, callback_max_attempts=2))
    t = MON + 10 * H
    r.ev(t, "call", modem="m0", **{"from": "+40"})
    r.ev(t, "button", desk=1, button="AVAIL")
    with raises(branch.Rejected, "retry needs the time"):
        r.b.check({"k": "callback_outcome", "t": t + S, "conv": 1, "outcome": "retry"})
    r.ev(t + 60 * S, "callback_outcome", conv=1, outcome="no_answer")
    conv = r.b.conversations[1]
    assert (conv.state, conv.attempts, r.b.next_due() <= t + 660 * S) == ("scheduled", 1, True)
    while r.b.next_due() <= t + 660 * S:
        r.ev(r.b.next_due(), "tick")
    assert conv.state == "offered" and conv.desk == 1
    r.ev(t + 700 * S, "callback_outcome", conv=1, outcome="no_answer")
    (session,) = r.sessions()
    assert session["outcome"] == "abandoned" and session["attempts"] == 2
    day = r.b.metrics.report(t + 800 * S)["day"]["all"]
    assert (day["callback_attempts"], day["callbacks_unreached"], day["callbacks_reached"]) == (
        2, 1, 0)


def test_notes_hand_over_profiles_and_erase():
    r = Run(make(menu={"root": MENU["root"]}))
    t = MON + 10 * H
    r.ev(t, "customer", customer="+50", name="Mr Chan", lang="zh", vip=True)
    r.sms(t + S, "+50", "hello")  # English text, but the profile says Chinese
    assert r.texts_to("+50") == [MENU["root"]["prompt"]["zh"]]
    r.sms(t + 2 * S, "+50", "1")
    assert r.b._vip_credit("+50") == r.b.config["vip_priority_s"] * 1000  # ahead in line
    r.ev(t + 3 * S, "note", conv=1, text="asked about fees last week too")
    r.ev(t + 4 * S, "handover", desk=1, text="Mr Chan may call back about fees")
    assert r.b.handover == {1: [[t + 4 * S, "Mr Chan may call back about fees"]]}
    with raises(branch.Rejected, "is open: close it first"):
        r.b.check({"k": "erase", "t": t + 5 * S, "customer": "+50"})
    r.ev(t + 6 * S, "button", desk=1, button="AVAIL")
    r.ev(t + 7 * S, "close", conv=1, disposition="info")
    (session,) = r.sessions()
    assert ("internal", "asked about fees last week too") in [
        (m["dir"], m["text"]) for m in session["messages"]]
    with raises(branch.Rejected, "still being sent"):
        r.b.check({"k": "erase", "t": t + 8 * S, "customer": "+50"})
    r.modem_took_all(t + 8 * S)
    effects = r.ev(t + 8 * S, "erase", customer="+50")
    assert ("erase", "+50", "erased-1") in effects
    assert ("history", "erase", {"customer": "+50"}) in effects
    (audit,) = [body for kind, body in r.uplinks if kind == "audit"]
    assert audit == {"action": "erase", "customer": "erased-1"}
    # The close's session record was not yet acknowledged: it leaves without the number.
    pending = [p for k, p in r.b.uplink_outbox.values() if k == "session"]
    assert pending[0]["session"]["customer"] == "erased-1"
    assert all(m["text"] == "" for m in pending[0]["session"]["messages"])
    assert r.b._vip_credit("+50") == 0
    # Writing again soon after: no reopen of the erased customer's conversation.
    r.sms(t + 9 * S, "+50", "hello")
    assert sorted(r.b.conversations) == [2]
