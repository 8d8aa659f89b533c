"""An oracle for the figures: a scripted morning at a branch, whose every figure is
worked out by hand below from the script alone (docs/metrics.md's definitions), not
from the code.

The branch: queue "general" (max wait 120 s) served by desk 1 (cap 1, timed wrap-up of
30 s), queue "loans" served by desk 2 (cap 2, no wrap-up); service level 40 s, short
abandons under 10 s, no rejoin window (an abandon is final at once), offers time out
after 75 s. Both desks sign in at 09:00 and out at 13:00. Times below are seconds from
09:00 (H = the hour's start, 3600 h); waits are arrival to acceptance.

Every hour h = 0..3:
  g1  general, arrives H+0, accepted H+20 (wait 20), replies H+30 and H+90 (to the
      customer's H+60), closed H+300, wrap-up ends H+330: handle 330-20 = 310.
  g2  general, arrives H+600, accepted H+660 (wait 60), reply H+700, closed H+1200,
      wrap-up ends H+1230: handle 570. In hour 1 the offer is missed: it times out at
      H+675 and is offered to desk 1 again at once, accepted H+680 (wait 80): handle 550.
  g3  general, arrives H+1800 and is offered; the customer cancels at H+1805 in hours
      0 and 1 (5 s: short abandons), H+1830 in hour 2 (30 s: abandoned within SL),
      H+1850 in hour 3 (50 s: abandoned after SL).
  g4  general, arrives H+2400, accepted H+2410 (wait 10), reply H+2420, closed H+3000,
      wrap-up ends H+3030: handle 620. In hour 0 desk 1 transfers it to "loans" at
      H+2500 instead; desk 2 is offered it, takes it up at H+2520, answers the
      customer's H+2530 message at H+2550 and closes it at H+2700: handle 2700-2410 = 290.
  l1  loans, arrives H+100, accepted H+110 (wait 10), reply H+115, closed H+400:
      handle 290.
  l2  loans, arrives H+200 (desk 2 holds two), accepted H+230 (wait 30), reply H+260,
      closed H+500: handle 270. In hour 1 desk 2 escalates it at H+300 instead (head
      office closes it at H+900: not handled by a desk).
Hour 2 also: desk 1 on a break from H+1500 to H+1700; g5 (general) arrives H+1520,
  waits, and its max wait runs out at H+1640 (wait 120: abandoned after SL).
Hour 3 also: a missed call at H+3300 becomes a callback request in "general"; desk 1
  takes it up at H+3320 (wait 20), closes it at H+3400 without an SMS, wrap-up ends
  H+3430: handle 110.
"""

from branchline.core import branch, config

T0 = 1796169600000  # 2026-12-02T00:00:00Z
S = 1000
START = T0 + 9 * 3600 * S  # 09:00
END_S = 4 * 3600  # 13:00: both desks sign out


def make():
    return branch.Branch(config.validate({
        "site": "s1",
        "device": "d1",
        "modems": [],
        "queues": [{"name": "general", "max_wait_s": 120},
                   {"name": "loans", "keywords": ["loan"]}],
        "desks": [{"desk": 1, "cap": 1, "queues": ["general"], "wrapup_s": 30},
                  {"desk": 2, "cap": 2, "queues": ["loans"]}],
        "service_level_s": 40,
        "short_abandon_s": 10,
        "rejoin_s": 0,
        "offer_timeout_s": 75,
        "max_missed_offers": 3,
        "report_interval_s": 900,
    }))


def script():
    """-> [(second, kind, customer or None, fields)] in the order written."""
    steps = []

    def at(s, kind, who=None, **fields):
        steps.append((s, kind, who, fields))

    def sms(s, who, text):
        at(s, "sms_in", who, text=text)

    at(0, "button", desk=1, button="AVAIL")
    at(0, "button", desk=2, button="AVAIL")
    for h in range(4):
        H = 3600 * h
        g1, g2, g3, g4, g5 = ("+44790%d0%d" % (h, n) for n in range(1, 6))
        l1, l2 = ("+44791%d0%d" % (h, n) for n in range(1, 3))
        sms(H, g1, "hello")
        at(H + 20, "accept", g1)
        at(H + 30, "reply", g1, text="Good morning, how can I help?")
        sms(H + 60, g1, "my card is blocked")
        at(H + 90, "reply", g1, text="It is unblocked now.")
        sms(H + 100, l1, "loan please")
        at(H + 110, "accept", l1)
        at(H + 115, "reply", l1, text="Which loan?")
        sms(H + 200, l2, "loan rates?")
        at(H + 230, "accept", l2)
        at(H + 260, "reply", l2, text="From 3.1 % a year.")
        if h == 1:
            at(H + 300, "escalate", l2, note="a complaint")
        at(H + 300, "close", g1)
        at(H + 330, "tick")  # desk 1's wrap-up ends
        at(H + 400, "close", l1)
        if h == 1:
            at(H + 900, "close", l2, outcome="escalated")  # head office's close
        else:
            at(H + 500, "close", l2)
        sms(H + 600, g2, "hello again")
        if h == 1:
            at(H + 675, "tick")  # the offer times out; offered again
            at(H + 680, "accept", g2)
        else:
            at(H + 660, "accept", g2)
        at(H + 700, "reply", g2, text="Yes?")
        at(H + 1200, "close", g2)
        at(H + 1230, "tick")
        if h == 2:
            at(H + 1500, "button", desk=1, button="BREAK")
            sms(H + 1520, g5, "anyone there?")
            at(H + 1640, "tick")  # g5's max wait runs out
            at(H + 1700, "button", desk=1, button="BREAK")
        sms(H + 1800, g3, "hi")
        sms(H + (1805, 1805, 1830, 1850)[h], g3, "cancel")
        sms(H + 2400, g4, "question")
        at(H + 2410, "accept", g4)
        at(H + 2420, "reply", g4, text="Go ahead.")
        if h == 0:
            at(H + 2500, "transfer", g4, queue="loans")
            at(H + 2520, "accept", g4)
            sms(H + 2530, g4, "it is about my loan")
            at(H + 2550, "reply", g4, text="I see.")
            at(H + 2700, "close", g4)
        else:
            at(H + 3000, "close", g4)
            at(H + 3030, "tick")
        if h == 3:
            at(H + 3300, "call", "+447909999", rings=3)
            at(H + 3320, "accept", "+447909999")
            at(H + 3400, "close", "+447909999")
            at(H + 3430, "tick")
    at(END_S, "button", desk=1, button="AVAIL")
    at(END_S, "button", desk=2, button="AVAIL")
    return steps


def run():
    """Play the script through a branch: -> (branch, every uplink payload by kind)."""
    b = make()
    uplinks = {}
    steps = sorted(enumerate(script()), key=lambda item: (item[1][0], item[0]))
    for _order, (s, kind, who, fields) in steps:
        ev = {"k": kind, "t": START + s * S}
        ev.update(fields)
        if kind in ("sms_in", "call"):
            ev["from"] = who
            ev["modem"] = "m0"
        elif who is not None:
            (ev["conv"],) = [c.id for c in b.conversations.values() if c.customer == who]
        b.check(ev)
        for effect in b.apply(ev):
            if effect[0] == "uplink":
                uplinks.setdefault(effect[2], []).append(effect[3][effect[2]])
    return b, uplinks


def published():
    """The `metrics` message head office gets a minute after the desks signed out."""
    b, uplinks = run()
    ev = {"k": "metrics", "t": START + (END_S + 60) * S}
    b.check(ev)
    (metrics,) = [e[3]["metrics"] for e in b.apply(ev) if e[0] == "uplink"]
    return metrics, uplinks


def test_the_morning_s_figures_for_the_whole_branch():
    metrics, uplinks = published()
    assert len(uplinks["session"]) == 26  # every conversation ended and was reported
    assert metrics["day"]["all"] == {
        # g1-g4 x 4, g5, the callback (18 general) + l1, l2 x 4 (8 loans)
        "offered": 26,
        # g1, g2, g4 x 4, the callback, l1, l2 x 4 (g3 and g5 gave up)
        "answered": 21,
        # g3 in hours 2 (30 s) and 3 (50 s), g5 (120 s)
        "abandoned": 3,
        "short_abandoned": 2,  # g3 in hours 0 and 1 (5 s)
        "service_level_s": 40,
        # within 40 s: g1 x 4 (20), g4 x 4 (10), callback (20), l1 x 4 (10), l2 x 4 (30)
        # = 17, over answered + abandoned = 24: 708.33
        "service_level_pm": 708,
        # (17 + g3's 30 s abandon) / 24 = 750
        "service_level2_pm": 750,
        # waits: g1 4 x 20, g2 3 x 60 + 80, g4 4 x 10, callback 20, l1 4 x 10, l2 4 x 30
        # = 80 + 260 + 40 + 20 + 40 + 120 = 560 s over 21: 26.667 s
        "asa_ms": 26667,
        "longest_wait_ms": 120000,  # g5
        # first replies: g1 4 x 30, g2 4 x 100, g4 4 x 20, l1 4 x 15, l2 4 x 60
        # = 900 s over 20 (the callback had none): 45 s
        "first_response_ms": 45000,
        # replies answering a customer: g1 8 x 30, g2 4 x 100, g4 5 x 20 (hour 0's at
        # desk 2 as well), l1 4 x 15, l2 4 x 60 = 1040 s over 25: 41.6 s
        "response_ms": 41600,
        # g1 4 x 310, g2 3 x 570 + 550, g4 3 x 620 + 290, callback 110, l1 4 x 290,
        # l2 3 x 270 = 1240 + 2260 + 2150 + 110 + 1160 + 810 = 7730 s over 20: 386.5 s
        "handle_ms": 386500,
        "handled": 20,
        "transfers": 1,
        "escalations": 1,
        "transfers_per_conversation_pm": 50,  # 1 / 20
        "escalations_per_conversation_pm": 50,
        "callbacks_requested": 1,
        "callbacks_completed": 1,
        # one each, plus g2's second offer in hour 1 and g4's to desk 2 in hour 0;
        # g5 was never offered: 4 + 5 + 4 + 5 + 1 + 4 + 4
        "offers": 27,
        "missed_offers": 1,
        # busy: desk 1 6050 s, desk 2 1700 s (see the desks' test) = 7750 s, over signed
        # in: desk 1 14400 - 200 (the break) + desk 2 14400 = 28600 s: 270.98
        "occupancy_pm": 271,
        # held: desk 1 5690 + desk 2 2400 = 8090 s, over holding at least one:
        # 5690 + 1700 = 7390 s: 1.0947
        "concurrency_milli": 1095,
        # No opening hours: every wait was inside them, calendar time is the same.
        "service_level_calendar_pm": 708,
        "asa_calendar_ms": 26667,
        # No menu, no reopen window reached, no hours.
        "self_service": 0,
        "contained": 0,
        "containment_pm": None,
        "reopened": 0,
        "after_hours": 0,
        # No queue surveys; the callback was closed as any conversation is, not
        # through callback outcomes.
        "surveys_sent": 0,
        "csat_responses": 0,
        "csat_avg_milli": None,
        "csat_distribution": [0, 0, 0, 0, 0],
        "csat_response_rate_pm": None,
        "callback_attempts": 0,
        "callbacks_reached": 0,
        "callbacks_unreached": 0,
    }


def test_the_morning_s_figures_per_queue():
    metrics, _ = published()
    general = metrics["day"]["queues"]["general"]
    assert (general["offered"], general["answered"], general["abandoned"],
            general["short_abandoned"]) == (18, 13, 3, 2)
    # within 40 s: g1 x 4, g4 x 4, callback = 9 over 13 + 3: 562.5; SL2 10 / 16
    assert (general["service_level_pm"], general["service_level2_pm"]) == (563, 625)
    # (80 + 260 + 40 + 20) s over 13: 30.769 s
    assert (general["asa_ms"], general["longest_wait_ms"]) == (30769, 120000)
    # g1, g2 x 4, g4 hours 1-3, callback; hour 0's g4 was closed in "loans":
    # (1240 + 2260 + 1860 + 110) s over 12 = 455.833 s
    assert (general["handled"], general["handle_ms"]) == (12, 455833)
    # the transfer counts where it left from: 1 / 12
    assert (general["transfers"], general["transfers_per_conversation_pm"]) == (1, 83)
    # first replies g1 4 x 30, g2 4 x 100, g4 4 x 20 = 600 s / 12; replies answering:
    # g1 8 x 30, g2 4 x 100, g4 4 x 20 at desk 1 = 720 s / 16
    assert (general["first_response_ms"], general["response_ms"]) == (50000, 45000)
    assert (general["callbacks_requested"], general["callbacks_completed"]) == (1, 1)
    assert (general["offers"], general["missed_offers"]) == (18, 1)  # g1-g4 x4 + 1 + cb

    loans = metrics["day"]["queues"]["loans"]
    assert (loans["offered"], loans["answered"], loans["abandoned"]) == (8, 8, 0)
    assert (loans["service_level_pm"], loans["asa_ms"]) == (1000, 20000)  # 160 s / 8
    # l1 4 x 290, l2 3 x 270, hour 0's g4 290 = 2260 s over 8 = 282.5 s
    assert (loans["handled"], loans["handle_ms"]) == (8, 282500)
    assert (loans["escalations"], loans["escalations_per_conversation_pm"]) == (1, 125)
    assert loans["transfers"] == 0
    # first replies l1 4 x 15, l2 4 x 60 = 300 s / 8; replies answering: those and
    # g4's at desk 2 (20 s) = 320 s / 9 = 35.556 s
    assert (loans["first_response_ms"], loans["response_ms"]) == (37500, 35556)
    assert loans["offers"] == 9  # l1, l2 x 4 and g4 offered to desk 2


def test_the_morning_s_figures_per_desk():
    metrics, _ = published()
    desk1 = metrics["day"]["desks"]["1"]
    # Busy (holding or in wrap-up), hour by hour:
    #   0: g1 330 + g2 630 + g3 5 + g4 100 (transferred: no wrap-up)       = 1065
    #   1: g1 330 + g2 630 (held through the missed offer) + g3 5 + g4 630 = 1595
    #   2: g1 330 + g2 630 + g3 30 + g4 630                                = 1620
    #   3: g1 330 + g2 630 + g3 50 + g4 630 + callback 130                 = 1770
    # = 6050 s over signed in 14400 - 200 = 14200 s: 426.06
    assert desk1["occupancy_pm"] == 426
    assert desk1["concurrency_milli"] == 1000  # cap 1: one at a time
    assert (desk1["answered"], desk1["handled"], desk1["transfers"]) == (13, 12, 1)
    assert (desk1["offers"], desk1["missed_offers"]) == (18, 1)
    desk2 = metrics["day"]["desks"]["2"]
    # Holding at least one: hour 0 [100, 500) + [2500, 2700), hours 1 [100, 400),
    # 2 and 3 [100, 500) = 600 + 300 + 400 + 400 = 1700 s over 14400: 118.06
    assert desk2["occupancy_pm"] == 118
    # Held: two at once over [200, 400) (hour 1: [200, 300)): 800 + 400 + 600 + 600
    # = 2400 s over 1700: 1.4118
    assert desk2["concurrency_milli"] == 1412
    assert (desk2["answered"], desk2["handled"], desk2["escalations"]) == (8, 8, 1)


def test_the_morning_s_intervals():
    metrics, uplinks = published()
    first = [m for m in uplinks["interval"] if m["interval"]["start"] == START][0]
    # 09:00-09:15: g1, l1, l2, g2 arrive and are answered (waits 20, 10, 30, 60: three
    # within 40 s, ASA 30 s); handled: g1 at its wrap-up's end (310), l1 (290), l2 (270)
    f = first["interval"]["all"]
    assert (f["offered"], f["answered"], f["service_level_pm"], f["asa_ms"]) == (
        4, 4, 750, 30000)
    assert (f["handled"], f["handle_ms"]) == (3, 290000)
    assert first["interval"]["end"] == START + 900 * S
    # The last completed one, 12:45-13:00 (H = 3 h, [2700, 3600)): g4 handled at 3030
    # (620) and the callback (arrives 3300, answered in 20 s, handled at 3430: 110).
    last = metrics["last_interval"]
    assert (last["start"], last["end"]) == (START + 13500 * S, START + END_S * S)
    f = last["all"]
    assert (f["offered"], f["answered"], f["asa_ms"], f["callbacks_requested"]) == (
        1, 1, 20000, 1)
    assert (f["handled"], f["handle_ms"], f["callbacks_completed"]) == (2, 365000, 1)
    # Desk 1 busy [2700, 3030) + [3300, 3430) = 460 s, holding 300 + 100 = 400 s;
    # desk 2 idle; both signed in throughout: 460 / 1800 s
    assert (f["occupancy_pm"], f["concurrency_milli"]) == (256, 1000)
