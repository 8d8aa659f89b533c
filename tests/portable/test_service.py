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
    assert conv.state == "offered" and conv.queue == "accounts" and conv.queued == t + 60 * S
    r.ev(t + 70 * S, "reply", conv=1, text="Hi, how can I help?")
    r.ev(t + 80 * S, "close", conv=1, disposition="info")
    day = r.b.metrics.report(t + 90 * S)["day"]["all"]
    assert (day["first_response_ms"], day["asa_ms"], day["self_service"]) == (10000, 10000, 1)
    (session,) = r.sessions()
    assert session["disposition"] == "info" and session["outcome"] == "resolved"
    assert [m["dir"] for m in session["messages"]] == ["in", "auto", "in", "out"]


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
