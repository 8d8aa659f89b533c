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


def test_a_long_message_is_delivered_once_every_part_is_and_failed_if_one_failed():
    box = SmsOutbox([30], ["m0"], remembered_sends=8)
    sent(box, 1, "m0", [10, 11, 12])
    assert box.report("m0", 10, "delivered") == (1, 1, "sent", ["delivered", "sent", "sent"])
    assert box.report("m0", 12, "pending") == (1, 1, "sent", ["delivered", "sent", "pending"])
    assert box.report("m0", 11, "delivered")[2:] == ("sent", ["delivered"] * 2 + ["pending"])
    assert box.report("m0", 12, "delivered")[2:] == ("delivered", ["delivered"] * 3)
    assert box.report("m0", 12, "failed")[2] == "delivered"  # a final word stays
    sent(box, 2, "m0", [13, 14])
    assert box.report("m0", 14, "failed") == (2, 1, "failed", ["sent", "failed"])


def test_a_part_the_ring_overwrote_counts_as_sent_for_its_message():
    box = SmsOutbox([30], ["m0"], remembered_sends=4)
    sent(box, 1, "m0", [1, 2, 3])
    box.report("m0", 1, "delivered")
    sent(box, 2, "m0", [4, 5])  # overwrites slot 3 and slot 0 (part 0 of message 1)
    assert box.report("m0", 1, "delivered") is None
    assert box.report("m0", 3, "delivered") == (1, 1, "sent", ["sent", "sent", "delivered"])


def test_the_recipient_must_be_the_same_phone_however_written():
    box = SmsOutbox([30], ["m0"], remembered_sends=4)
    sent(box, 1, "m0", [7], to="+44 7700 900123")
    sent(box, 2, "m0", [8], to="BANK")
    assert box.report("m0", 7, "delivered", "07700900123")[0] == 1
    assert box.report("m0", 7, "delivered", "+447700900124") is None  # reused for another
    assert box.report("m0", 8, "delivered", "BANK")[0] == 2
    assert box.report("m0", 8, "delivered", "bank") is None


def test_a_dump_restores_the_same_answers_at_17_bytes_a_part():
    box = SmsOutbox([30], ["m0", "m1"], remembered_sends=5)
    for out_id in range(1, 8):
        sent(box, out_id, "m%d" % (out_id % 2), [out_id, out_id + 100])
    box.report("m1", 107, "delivered")
    box.add(9, "m0", "+1", "owed", 3, 0)
    again = SmsOutbox([30], ["m0", "m1"], remembered_sends=5)
    again.load(box.dump())
    assert len(again._sent.data) == 17 * 5
    assert again.items == box.items
    for modem in ("m0", "m1"):
        for mr in range(1, 8):
            for ref in (mr, mr + 100):
                assert again.report(modem, ref, "pending") == box.report(modem, ref, "pending")
