"""The SMS outbox's memory of what was sent: status reports find the newest send with
their reference, and only the last `remembered_sends` parts are kept."""

from branchline.core.sms_outbox import SmsOutbox


def sent(box, out_id, modem, refs, to="+447700900123"):
    box.add(out_id, modem, to, "text %d" % out_id, 1, 0)
    box.sent(out_id, modem, refs)


def test_a_report_settles_the_newest_send_with_its_reference():
    box = SmsOutbox([30], ["m0", "m1"], remembered_sends=8)
    sent(box, 1, "m0", [7])
    sent(box, 2, "m1", [7])  # the same TP-MR on another modem is another message
    sent(box, 3, "m0", [7])  # TP-MR wrapped on m0: the newest send owns it now
    assert box.report("m0", 7, "delivered")[0] == 3
    assert box.report("m1", 7, "delivered")[0] == 2
    assert box.report("m0", 8, "delivered") is None


def test_only_the_last_parts_are_remembered_and_a_reused_reference_survives_its_slot():
    box = SmsOutbox([30], ["m0"], remembered_sends=3)
    sent(box, 1, "m0", [1, 2])
    sent(box, 2, "m0", [1])  # reuses 1: slot 0's entry is stale now
    sent(box, 3, "m0", [3])  # slot 0 again: must not drop the live reference 1
    assert box.report("m0", 1, "delivered")[0] == 2
    assert box.report("m0", 2, "delivered")[0] == 1
    sent(box, 4, "m0", [4])  # slot 1 goes: reference 2 is forgotten
    assert box.report("m0", 2, "delivered") is None
    assert box.report("m0", 3, "pending")[:3] == (3, 1, "sent")
