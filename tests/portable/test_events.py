"""The event schema: shapes are checked field by field, with the field named."""

from check import raises

from branchline.core import events


def test_a_well_formed_event_passes_and_make_leaves_out_what_is_none():
    ev = events.make("sms_in", 5, modem="m0", text="hi", slot=None, concat=[1, 2, 1],
                     **{"from": "+1"})
    assert ev == {"k": "sms_in", "t": 5, "modem": "m0", "from": "+1", "text": "hi",
                  "concat": [1, 2, 1]}
    events.check(ev)
    events.check(events.make("sms_sent", 5, out=1, ok=False, kind="modem"))


def test_every_shape_error_names_its_field():
    cases = (
        ([], "an event is an object, got list"),
        ({"k": "launch", "t": 1}, "unknown event kind 'launch'"),
        ({"k": "tick"}, "tick: t must be an integer time (ms)"),
        ({"k": "tick", "t": True}, "tick: t must be an integer time (ms)"),
        ({"k": "reply", "t": 1, "conv": 1}, "reply: text is missing"),
        ({"k": "reply", "t": 1, "conv": "1", "text": "x"}, "reply: conv must be an integer"),
        ({"k": "assign", "t": 1, "conv": 1, "desk": True}, "assign: desk must be an integer"),
        ({"k": "button", "t": 1, "desk": 1, "button": "EJECT"},
         "button: button must be one of AVAIL, BREAK, READY, NEXT"),
        ({"k": "sms_in", "t": 1, "modem": "m0", "from": "+1", "text": "x", "concat": [1, 2]},
         "sms_in: concat must be [ref, total, seq]"),
        ({"k": "sms_sent", "t": 1, "out": 1, "mr": [1, "2"]},
         "sms_sent: mr must be a list of integers"),
        ({"k": "tick", "t": 1, "extra": 2}, "tick: unknown field extra"),
        ({"k": "close", "t": 1, "conv": 1, "outcome": "resolved", "zz": 1, "aa": 2},
         "close: unknown field aa"),
    )
    for event, message in cases:
        with raises(events.EventError) as caught:
            events.check(event)
        assert str(caught.value) == message, (str(caught.value), message)


def test_the_detail_leaves_the_kind_out_for_the_console():
    with raises(events.EventError) as caught:
        events.check({"k": "reply", "t": 1, "conv": 1})
    assert caught.value.detail == "text is missing"


def test_journals_of_a_newer_schema_are_refused_older_ones_upgraded():
    ev = {"k": "tick", "t": 1}
    assert events.upgrade(ev, 1) == ev
    with raises(events.EventError, match="newer than this firmware"):
        events.upgrade(ev, events.SCHEMA + 1)
