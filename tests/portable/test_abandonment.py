"""Abandonment for SMS: a customer who cancels, a queue's max wait, coming back within the
rejoin window; and the figures that follow from them (counted once final, short ones
apart), with handle time running to the end of the wrap-up."""

from branchline.core import branch, config

T0 = 1796169600000  # a day's start (UTC), so that the day's figures hold everything


def make(**changes):
    doc = {
        "site": "s1",
        "device": "d1",
        "modems": [],
        "queues": [{"name": "general"}, {"name": "loans", "keywords": ["loan"]}],
        "desks": [{"desk": 1, "cap": 1, "queues": ["general", "loans"]}],
        "short_abandon_s": 10,
        "rejoin_s": 60,
    }
    doc.update(changes)
    return branch.Branch(config.validate(doc))


def sms(b, s, sender, text):
    return b.apply({"k": "sms_in", "t": T0 + s * 1000, "modem": "m0", "from": sender,
                    "text": text})


def at(b, s, kind, **fields):
    fields.update(k=kind, t=T0 + s * 1000)
    return b.apply(fields)


def sent(effects):
    return [(e[3], e[4]) for e in effects if e[0] == "send_sms"]


def sessions(effects):
    return [e[3]["session"] for e in effects if e[0] == "uplink" and e[2] == "session"]


def day(b):
    return b.metrics.report(b.now)["day"]["all"]


def test_a_cancel_word_abandons_a_waiting_conversation_and_acknowledges_it():
    b = make()
    sms(b, 0, "+1", "hello")
    effects = sms(b, 30, "+1", "  Cancel! ")
    assert sent(effects) == [("+1", b.config["cancel_ack"]["en"])]
    assert b.conversations[1].state == "abandoned" and b.router.queue_length(0) == 0
    assert day(b)["abandoned"] == 0  # not final yet: the customer may come back
    effects = at(b, 91, "tick")  # the rejoin window is over
    (record,) = sessions(effects)
    assert record["outcome"] == "abandoned" and record["abandoned"] == T0 + 30000
    assert not b.conversations and day(b)["abandoned"] == 1


def test_cancel_words_of_other_scripts_and_only_as_the_whole_message():
    b = make()
    sms(b, 0, "+1", "hello")
    sms(b, 1, "+1", "please do not cancel my loan")
    assert b.conversations[1].state == "queued"
    sms(b, 2, "+1", "算了。")
    assert b.conversations[1].state == "abandoned"


def test_writing_again_within_the_rejoin_window_gives_the_old_place_back():
    b = make()
    sms(b, 0, "+1", "first")
    sms(b, 5, "+2", "second")
    sms(b, 20, "+1", "取消")
    assert b.router.position(2) == 0
    sms(b, 50, "+1", "sorry, I do need help")
    conv = b.conversations[1]
    assert conv.state == "queued" and conv.abandoned is None
    assert b.router.position(1) == 0 and b.router.position(2) == 1
    assert [(m["dir"], m["text"]) for m in conv.as_dict()["messages"]] == [
        ("in", "first"), ("in", "取消"), ("auto", b.config["cancel_ack"]["en"]),
        ("in", "sorry, I do need help")]
    effects = at(b, 200, "tick")
    assert sessions(effects) == [] and day(b)["abandoned"] == 0
    assert at(b, 201, "presence", desk=1, state="available")[0] == ("offered", 1, 1)


def test_a_customer_who_comes_back_too_late_starts_a_new_conversation():
    b = make()
    sms(b, 0, "+1", "first")
    sms(b, 20, "+1", "cancel")
    at(b, 81, "tick")
    sms(b, 90, "+1", "again")
    assert list(b.conversations) == [2] and b.conversations[2].as_dict()["messages"][0]["text"] == "again"


def test_a_short_abandon_is_counted_apart_and_left_out_of_service_level():
    b = make()
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "busy the desk")
    at(b, 2, "accept", conv=1)
    sms(b, 3, "+2", "quick")
    sms(b, 8, "+2", "cancel")  # 5 s: under short_abandon_s
    sms(b, 10, "+3", "slow")
    sms(b, 40, "+3", "cancel")  # 30 s: within the 40 s service level, but abandoned
    at(b, 101, "tick")
    figures = day(b)
    assert (figures["abandoned"], figures["short_abandoned"]) == (1, 1)
    # Answered 1 (within 40 s), abandoned 1: SL = 1 / (1 + 1); SL2 counts the abandon
    # within T as met: (1 + 1) / 2.
    assert (figures["service_level_pm"], figures["service_level2_pm"]) == (500, 1000)


def test_an_offered_conversation_can_be_cancelled_and_the_desk_loses_it():
    b = make()
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "hi")
    effects = sms(b, 30, "+1", "cancel")
    assert ("returned", 1, 1) in effects and b.router.agent_load(0) == 0
    assert ("led", 1, "GREEN") in effects


def test_an_active_conversation_is_not_cancelled_by_the_word():
    b = make()
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "hi")
    at(b, 2, "accept", conv=1)
    sms(b, 3, "+1", "cancel")
    assert b.conversations[1].state == "active" and b.conversations[1].awaiting is not None


def test_the_max_wait_abandons_and_offers_a_callback_that_a_reply_takes_up():
    b = make(queues=[{"name": "general", "max_wait_s": 120}, {"name": "loans"}])
    sms(b, 0, "+1", "hello")
    assert b.next_due() == T0 + 120000
    effects = at(b, 120, "tick")
    assert sent(effects) == [("+1", b.config["max_wait_message"]["en"])]
    assert b.conversations[1].abandon_cause == "expired"
    effects = sms(b, 150, "+1", "yes please call me")
    (record,) = sessions(effects)
    assert record["outcome"] == "expired" and record["id"] == 1
    callback = b.conversations[2]
    assert callback.kind == "callback" and callback.as_dict()["messages"][-1]["text"] == "yes please call me"
    assert sent(effects) == [("+1", b.config["callback_ack"]["en"])]
    figures = day(b)
    assert (figures["abandoned"], figures["callbacks_requested"], figures["offered"]) == (1, 1, 2)
    assert figures["longest_wait_ms"] == 120000


def test_without_a_rejoin_window_an_abandon_is_final_at_once():
    b = make(rejoin_s=0)
    sms(b, 0, "+1", "hello")
    effects = sms(b, 30, "+1", "cancel")
    assert [r["outcome"] for r in sessions(effects)] == ["abandoned"]
    assert not b.conversations and day(b)["abandoned"] == 1


def test_a_held_back_conversation_can_be_cancelled():
    b = make(queue_capacity=1)
    sms(b, 0, "+1", "first")
    sms(b, 1, "+2", "second")  # general is full: held back
    effects = sms(b, 20, "+2", "cancel")
    assert [r["id"] for r in sessions(effects)] == [2]
    assert b.state_summary()["held"] == 0 and day(b)["abandoned"] == 1


def test_handle_time_runs_to_the_end_of_the_wrap_up():
    b = make(desks=[{"desk": 1, "cap": 1, "queues": ["general"], "wrapup_s": 30}])
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "hi")
    at(b, 11, "accept", conv=1)
    at(b, 71, "close", conv=1)  # 60 s active
    assert day(b)["handled"] == 0  # until the wrap-up ends
    at(b, 101, "tick")
    figures = day(b)
    assert (figures["handled"], figures["handle_ms"]) == (1, 90000)


def test_a_manual_wrap_up_ends_when_the_desk_is_ready():
    b = make(desks=[{"desk": 1, "cap": 1, "queues": ["general"], "wrapup_manual": True}])
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "hi")
    at(b, 2, "reply", conv=1, text="hello")
    at(b, 12, "close", conv=1)
    at(b, 500, "tick")
    assert day(b)["handled"] == 0
    at(b, 512, "button", desk=1, button="READY")
    assert (day(b)["handled"], day(b)["handle_ms"]) == (1, 510000)


def test_a_missed_offer_is_counted_for_the_desk():
    b = make(offer_timeout_s=20, max_missed_offers=1)
    at(b, 0, "presence", desk=1, state="available")
    sms(b, 1, "+1", "hi")
    effects = at(b, 21, "tick")
    assert ("missed_break", 1) in effects and ("returned", 1, 1) in effects
    report = b.metrics.report(b.now)["day"]
    assert report["all"]["missed_offers"] == 1 and report["desks"]["1"]["missed_offers"] == 1
