"""The console's live notices (web/live.py): what one group of events changed in one
notice, and a page that reconnects gets what it missed, or is told to load again."""

import json

from branchline.core import branch, config
from branchline.web.live import Feed


def notices(items):
    return [json.loads(text) for _n, text in items]


def test_a_group_becomes_one_notice_and_nothing_none():
    feed = Feed(7, size=4)
    feed.publish()
    assert feed.last == 0
    feed.touch_conv(3)
    feed.touch_conv(1)
    feed.touch_conv(3)
    feed.touch_desk(2)
    feed.publish()
    feed.offer(5, 1, 123000)
    assert notices(feed.after(0)) == [{"board": False, "convs": [1, 3], "desks": [2]},
                                      {"offer": 5, "desk": 1, "deadline": 123000}]
    assert feed.id_of(2) == "7-2"


def test_a_page_that_reconnects_gets_what_it_missed_or_a_reset():
    feed = Feed(7, size=4)
    for conv in range(1, 7):
        feed.touch_conv(conv)
        feed.publish()
    assert feed.since(None) == (6, [])  # a new page loads everything itself
    n, items = feed.since("7-4")
    assert n == 4 and [c["convs"] for c in notices(items)] == [[5], [6]]
    assert feed.since("7-6") == (6, [])
    for gone in ("7-1", "6-5", "7-9", "7-x", "junk"):  # too old, another boot, nonsense
        assert feed.since(gone) == (6, [(6, '{"reset":true}')]), gone


def test_delivery_reports_name_their_conversation():
    cfg = config.validate({"site": "s", "device": "d", "modems": [{"id": "m0", "port": "x"}],
                           "queues": [{"name": "general"}],
                           "desks": [{"desk": 1, "cap": 1, "queues": ["general"]}]})
    b = branch.Branch(cfg)
    b.apply({"k": "presence", "t": 0, "desk": 1, "state": "available"})
    b.apply({"k": "sms_in", "t": 1000, "modem": "m0", "from": "+1", "text": "hi"})
    b.apply({"k": "reply", "t": 2000, "conv": 1, "text": "hello"})
    effects = b.apply({"k": "sms_sent", "t": 3000, "out": 1, "modem": "m0", "mr": [9]})
    assert ("delivery", 1, 1, "sent") in effects
    effects = b.apply({"k": "sms_status", "t": 4000, "modem": "m0", "mr": 9,
                       "status": "delivered"})
    assert ("delivery", 1, 1, "delivered") in effects
