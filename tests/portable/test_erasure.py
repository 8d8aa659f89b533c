"""What erasing a customer leaves of each journal record (core/erasure.py)."""

from branchline.core.erasure import ERASED, redact

N = "+85291234567"
P = "erased-2"


def test_records_naming_the_number_or_its_conversations_lose_who_and_what():
    ids = {4}
    cases = (
        ({"k": "sms_in", "t": 1, "modem": "m0", "from": N, "text": "my card", "fp": "m0:1"},
         {"k": "sms_in", "t": 1, "modem": "m0", "from": P, "text": ERASED, "fp": "m0:1"}),
        ({"k": "call", "t": 2, "modem": "m0", "from": N, "rings": 2},
         {"k": "call", "t": 2, "modem": "m0", "from": P, "rings": 2}),
        ({"k": "reply", "t": 3, "conv": 4, "text": "your PIN is ..."},
         {"k": "reply", "t": 3, "conv": 4, "text": ERASED}),
        ({"k": "close", "t": 4, "conv": 4, "disposition": "info", "summary": "told her"},
         {"k": "close", "t": 4, "conv": 4, "disposition": "info", "summary": ERASED}),
        ({"k": "sms_status", "t": 5, "modem": "m0", "mr": 3, "to": N, "status": "delivered"},
         {"k": "sms_status", "t": 5, "modem": "m0", "mr": 3, "to": P, "status": "delivered"}),
        ({"k": "customer", "t": 6, "customer": N, "name": "Ms Lee", "vip": True},
         {"k": "customer", "t": 6, "customer": P}),
        ({"k": "erase", "t": 7, "customer": N}, {"k": "erase", "t": 7, "customer": P}),
    )
    for before, after in cases:
        assert redact(before, N, ids, P) == after, before


def test_records_of_others_are_returned_untouched():
    for event in ({"k": "sms_in", "t": 1, "modem": "m0", "from": "+1", "text": "hi"},
                  {"k": "reply", "t": 2, "conv": 5, "text": "hello"},
                  {"k": "tick", "t": 3}):
        assert redact(event, N, {4}, P) is event
