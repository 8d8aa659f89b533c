"""A scripted day of the service layer through the whole gateway: the simulated modem
and panel, a real mosquitto, the console API. English and Chinese customers use the
menu; one hands off by keyword; an FAQ contains a conversation; a closed queue answers
after hours, takes a CALL, and offers first when it opens; position messages; a
template with placeholders; a reopen within the window; a required disposition refused
then given; a survey answered and a non-answer that opens a new conversation; an
erase. Every SMS the branch sent is checked by decoding the PDU the modem received."""

import time
import urllib.parse

import pytest

from branchline.core.tz import civil_from_days
from branchline.proto import pdu
from host_tools.sim_branch import SimulatedBranch

EN_A, ZH_B, EN_C, EN_D, EN_E, EN_F = ("+447700900001", "+8613800000002", "+447700900003",
                                      "+447700900004", "+447700900005", "+447700900006")
OPENS_IN_S = 25  # the loans queue opens this long after the test starts
PROMPT = {"en": "Reply 1 accounts, 2 cards, 3 hours, 4 loans, 0 agent",
          "zh": "回复1 账户, 2 银行卡, 3 营业时间, 4 贷款, 0 人工"}
CARDS = {"en": "Cards: 1 lost card, 2 other", "zh": "银行卡：1 挂失, 2 其他"}
LOST = {"en": "Call 2233 4455 to block a lost card.", "zh": "请致电 2233 4455 挂失。"}
SURVEY = {"en": "How did we do? Reply 1 (poor) to 5 (excellent).",
          "zh": "您对本次服务满意吗？请回复1（很差）至5（很好）。"}
THANKS = {"en": "Thank you for your feedback.", "zh": "感谢您的反馈。"}


def clock_for_opening():
    """A time zone whose local clock now reads OPENS_IN_S before a whole minute, and
    that minute's local date and time: the loans queue opens then (a POSIX rule takes
    an offset in seconds, so the test need not wait for a real opening time)."""
    now = int(time.time())
    opening_utc = now + OPENS_IN_S
    offset = -(opening_utc % 60)  # local time at opening_utc is a whole minute
    if offset <= -30:
        offset += 60
    local = opening_utc + offset
    y, m, d = civil_from_days(local // 86400)
    minute = local % 86400 // 60
    # POSIX offsets count west of Greenwich: local = UTC - offset.
    rule = "<TST>%s0:00:%02d" % ("+" if offset <= 0 else "-", abs(offset))
    return rule, "%04d-%02d-%02d" % (y, m, d), minute


@pytest.fixture
def branch(tmp_path):
    rule, day, minute = clock_for_opening()
    if minute > 1438:
        pytest.skip("the opening would fall on the next local day: run again in a minute")
    opens = "%02d:%02d-23:59" % (minute // 60, minute % 60)
    overrides = {
        "languages": ["en", "zh"],
        "timezone": rule,
        "queues": [
            {"name": "general", "survey": True},
            {"name": "accounts", "wrapup_required": ["disposition"], "survey": True,
             "position_updates": True},
            {"name": "cards"},
            {"name": "loans", "hours": {"special_days": {day: [opens]}}},
        ],
        "desks": [
            {"desk": 1, "name": "Desk 1", "cap": 3,
             "queues": ["general", "accounts", "cards", "loans"]},
            {"desk": 2, "name": "Desk 2", "cap": 1, "queues": ["general"]},
        ],
        "menu": {
            "handoff_keywords": ["人工", "agent", "human", "0"],
            "root": {"prompt": PROMPT, "options": {
                "1": {"queue": "accounts"},
                "2": {"prompt": CARDS, "options": {"1": {"answer": LOST},
                                                   "2": {"queue": "cards"}}},
                "3": {"answer": {"en": "Open today {branch_hours}.",
                                 "zh": "今天营业 {branch_hours}。"}},
                "4": {"queue": "loans"}}},
        },
        "templates": [{"name": "greeting", "text": {
            "en": "Hello {customer_name}, this is {desk_name}.",
            "zh": "{customer_name}您好，我是{desk_name}。"}}],
        "dispositions": [{"code": "info"}, {"code": "complaint", "sub": [{"code": "fees"}]}],
        "survey_delay_s": 1,
        "reopen_window_s": 8,
        "max_position_sms": 1,
        "offer_timeout_s": 0,
    }
    b = SimulatedBranch(workdir=str(tmp_path), config_overrides=overrides)
    b.start()
    yield b
    b.close()


def decoded(branch):
    """(number, text, encoding) of every SMS the modem was given, decoded from its PDU;
    the parts of a long one joined."""
    out = []
    parts = {}
    for sent in list(branch.modem.sent):
        m = pdu.decode_submit(sent.pdu)
        if m.concat is None:
            out.append((m.number, m.text, m.encoding))
            continue
        ref, total, seq = m.concat
        parts.setdefault((m.number, ref), {})[seq] = m
        got = parts[(m.number, ref)]
        if len(got) == total:
            out.append((m.number, "".join(got[i].text for i in range(1, total + 1)),
                        m.encoding))
    return out


def texts_to(branch, number):
    return [text for to, text, _enc in decoded(branch) if to == number]


def wait_text(branch, number, text, timeout=15.0):
    branch.wait_for("%s gets %r" % (number, text), lambda: text in texts_to(branch, number),
                    timeout=timeout)


def customer_path(number):
    return "/api/customers/" + urllib.parse.quote(number)


def conv_of(branch, number):
    """The customer's open conversation, None when none is (or the number is unknown)."""
    status, doc = branch.console("GET", customer_path(number))
    assert status in (200, 404), doc
    return doc["open"] if status == 200 else None


def test_a_day_of_menus_hours_templates_reopens_surveys_and_an_erase(branch):
    # Loans is closed: D chooses it, hears when it opens and asks for a call back; E
    # chooses it and waits. Nobody is at a desk yet.
    branch.modem.deliver(EN_D, "Hi")
    wait_text(branch, EN_D, PROMPT["en"])
    branch.modem.deliver(EN_D, "4")
    branch.wait_for("after-hours reply", lambda: any(
        t.startswith("We are closed now and open again today ") for t in texts_to(branch, EN_D)))
    branch.modem.deliver(EN_D, "CALL")
    wait_text(branch, EN_D, "We missed your call. An agent will call you back as soon as possible.")
    assert conv_of(branch, EN_D)["kind"] == "callback"
    branch.modem.deliver(EN_E, "Hello")
    wait_text(branch, EN_E, PROMPT["en"])
    branch.modem.deliver(EN_E, "4")
    branch.wait_for("E's after-hours reply", lambda: len(texts_to(branch, EN_E)) == 2)

    # A (English) solves it with the FAQ: contained, no person involved.
    branch.modem.deliver(EN_A, "hello")
    wait_text(branch, EN_A, PROMPT["en"])
    branch.modem.deliver(EN_A, "2")
    wait_text(branch, EN_A, CARDS["en"])
    branch.modem.deliver(EN_A, "1")
    wait_text(branch, EN_A, LOST["en"])
    contained = branch.wait_for("A's session", lambda: [
        s for s in branch.mqtt("session") if s["session"]["customer"] == EN_A])
    assert contained[0]["session"]["contained"] is True

    # B (Chinese) picks accounts; nobody is in, so B hears the place in the line.
    status, _ = branch.console("POST", customer_path(ZH_B), {"name": "陈先生"})
    assert status == 200
    branch.modem.deliver(ZH_B, "你好")
    wait_text(branch, ZH_B, PROMPT["zh"])
    branch.modem.deliver(ZH_B, "1")
    branch.wait_for("B's position", lambda: any(
        t.startswith("您排在第1位") for t in texts_to(branch, ZH_B)))
    branch.panel.press(1, "AVAIL")
    b_conv = branch.wait_for("B offered", lambda: (conv_of(branch, ZH_B) or {}).get(
        "state") == "offered" and conv_of(branch, ZH_B))["id"]
    status, doc = branch.console("POST", "/api/conversations/%d/templates/greeting" % b_conv, {})
    assert (status, doc["text"]) == (200, "陈先生您好，我是Desk 1。")
    branch.console("POST", "/api/conversations/%d/reply" % b_conv, {"text": doc["text"]})
    wait_text(branch, ZH_B, "陈先生您好，我是Desk 1。")
    status, doc = branch.console("POST", "/api/conversations/%d/close" % b_conv, {})
    assert status == 409 and doc["error"] == "queue accounts requires a disposition to close"
    status, _ = branch.console("POST", "/api/conversations/%d/close" % b_conv,
                               {"disposition": "info"})
    assert status == 200
    wait_text(branch, ZH_B, SURVEY["zh"])
    branch.modem.deliver(ZH_B, "5")
    wait_text(branch, ZH_B, THANKS["zh"])
    assert conv_of(branch, ZH_B) is None  # the answer opened nothing

    # C asks for a person by keyword, is served, and writes again at once: reopened.
    branch.modem.deliver(EN_C, "I want a human please")
    c_conv = branch.wait_for("C offered", lambda: (conv_of(branch, EN_C) or {}).get(
        "state") == "offered" and conv_of(branch, EN_C))
    assert c_conv["queue"] == "general"
    branch.console("POST", "/api/conversations/%d/reply" % c_conv["id"], {"text": "Yes?"})
    branch.console("POST", "/api/conversations/%d/close" % c_conv["id"], {})
    branch.modem.deliver(EN_C, "one more thing")
    again = branch.wait_for("C reopened", lambda: conv_of(branch, EN_C))
    assert (again["id"], again["reopened"], again["desk"]) == (c_conv["id"], 1, c_conv["desk"])
    branch.console("POST", "/api/conversations/%d/close" % c_conv["id"], {})

    # F is surveyed and answers with words after the reopen window: a new conversation.
    branch.modem.deliver(EN_F, "0")
    f_conv = branch.wait_for("F offered", lambda: (conv_of(branch, EN_F) or {}).get(
        "state") == "offered" and conv_of(branch, EN_F))["id"]
    branch.console("POST", "/api/conversations/%d/close" % f_conv, {})
    wait_text(branch, EN_F, SURVEY["en"])
    time.sleep(8.5)  # past reopen_window_s
    branch.modem.deliver(EN_F, "hello again, a new question")
    later = branch.wait_for("F's new conversation", lambda: conv_of(branch, EN_F))
    assert later["id"] != f_conv

    # Loans opens: the callback request and E are offered, in the order they came.
    d_id = conv_of(branch, EN_D)["id"]
    e_id = conv_of(branch, EN_E)["id"]

    def offers():
        return [int(e["conv"]) for e in branch.gateway_has("offered")]

    branch.wait_for("loans open", lambda: d_id in offers() and e_id in offers(),
                    timeout=OPENS_IN_S + 10)
    assert offers().index(d_id) < offers().index(e_id)

    # A is erased: gone from the history, audited at head office without the number.
    status, _ = branch.console("POST", customer_path(EN_A) + "/erase", {})
    assert status == 200
    assert branch.console("GET", customer_path(EN_A))[0] == 404
    audit = branch.wait_for("audit", lambda: branch.mqtt("audit"))
    assert audit[0]["audit"] == {"action": "erase", "customer": "erased-1"}

    # Every SMS: the right language's encoding, and nothing the branch did not mean.
    for number, text, encoding in decoded(branch):
        assert encoding == ("ucs2" if number == ZH_B else "gsm7"), (number, text)
    assert texts_to(branch, EN_A) == [PROMPT["en"], CARDS["en"], LOST["en"]]
    # Place 1, nobody in: the default handle time (5 min) over one conversation at once.
    assert texts_to(branch, ZH_B) == [PROMPT["zh"], "您排在第1位，预计等候约5分钟。",
                                      "陈先生您好，我是Desk 1。", SURVEY["zh"], THANKS["zh"]]
    (closed_d, callback_d) = texts_to(branch, EN_D)[1:]
    assert closed_d.endswith(". Reply CALL to be called back.")
    assert callback_d.startswith("We missed your call.")
    assert texts_to(branch, EN_F) == [SURVEY["en"], PROMPT["en"]]  # "0" needed no prompt
    day = branch.console("GET", "/api/state")[1]["metrics"]
    assert day["contained"] == 1 and day["csat_responses"] == 1 and day["reopened"] == 1
    assert day["after_hours"] == 2
