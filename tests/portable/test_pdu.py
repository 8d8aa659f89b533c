"""SMS PDU codec. Portable: runs under pytest and MicroPython.

Published vectors are cited where they are used; the hex is copied from the public
source (phone numbers there were already made up or masked by their authors).
"""

import binascii

from check import raises

from branchline.proto import gsm7, pdu
from branchline.proto.pdu import PduError

# "SMS and the PDU format" tutorial (dreamfabric.com; mirrored at
# subnets.ru/saved/sms_pdu_format.html and turbocontrol.com): SMS-DELIVER "hellohello".
HELLO_DELIVER = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
# Same tutorial: SMS-SUBMIT "hellohello" to +46708251358, validity AA (4 days).
HELLO_SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
# pmarti/python-messaging issue #24: SmsSubmit("125", "hello").
PM_SUBMIT = "001100038121F50000FF05E8329BFD06"
# "SMS短信解码举例" (csdndocs.com/article/9085087): UCS2 "你好" from +8613505165495.
CHINESE_DELIVER = "0891683108200505F0040D91683105155694F5000850208151754500044F60597D"
# futomi/node-sms-pdu issue #1: alphanumeric sender "diafaan".
DIAFAAN_DELIVER = "0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B"
# bg111/asterisk-chan-dongle issue #91: alphanumeric sender "HOSTER.RU".
HOSTER_DELIVER = (
    "07919720990610F00410D0C8E7945A94BAA4550000218051710140235550E953C82C3641C51828ED"
    "A697E5E6F0B83C0705E7F4B23C3D5FB784E5323BED2E83623057CC1573D1404369929A1C0699A06B"
    "990C0AD6CFA0580D149BE960395D0D066A4E9720192C2603"
)
# wdoekes/asterisk-chan-dongle issue #9: alphanumeric sender with TOA D1 (sender masked
# by the reporter).
D1_DELIVER = (
    "07913396050066F1240ED1D365D1397542890000619003815474801ED7309B5E968388EFF2BA3C07A5E7A0"
    "30E82C2F87E9A0733D0F0A01"
)
# xlab/at pull request #14: UCS2 part 3 of 3 with a 16-bit-reference concatenation UDH.
UDH16_DELIVER = (
    "07919731899699F3440B919781455534F20008811151906461215B0608040A32030304380442044C0020043F"
    "0435044004350432043E043400200441043E002004410447043504420430002004320430044804350433043E"
    "0020043D043E043C0435044004300020002A003100310035002A00310023"
)
# xlab/at issue #20: alphanumeric sender, DCS 0x19 (class 1, UCS2), 16-bit concatenation.
BEELINE_DELIVER = (
    "07919730071111F1400DD0C272999D7697010019021021902130218B06080478E006020020043C0438043D0020"
    "04370432043E043D043A043E04320020043D04300020043D043E043C043504400430002004110438043B0430"
    "0439043D00200420043E0441044104380438002004380020043C043504410442043D044B04350020043C043E"
    "04310438043B044C043D044B04350020043D043E043C043504400430002004340440"
)
# xlab/at issue #33: SCTS time zone byte 0x69 = -16 quarter hours (UTC-04:00), TON 100.
NEGTZ_DELIVER = (
    "07914150740250F52405C90715F400004250423161226982C8A953076A96DB6F793ACC0611C379D034CC2E87"
    "40553888FE06D56025D0DB6C06C55830186C0E7A9B41E6B49B3C7781A0ECFA9C05AA818CEC321E1ACE83DE6E"
    "50D95E96E7E9E8B4FB1C024DD16F38C8FDBEEB40683A1D3ED7BD5EE8B9DB15A6D3DD2EBAFD156EDA66F3A533"
    "161F8AE92017"
)
# accessvba.blogsky.com "decode SMS-SUBMIT": SMSC +8613800280500, MR 0x51, to 1861, VP FF.
ACCESSVBA_SUBMIT = "0891683108200805F01151048181160000FF16C8329BFD66B5F320B8BC4CA7E741F7B79C4D0E01"
# alt.cellular.gsm "Change SMS ID": UDL 0x19 with an 11-octet reply-address UDH, 3 fill
# bits, then "Please reply"; wrapped here in an SMS-DELIVER header (FO 0x44 = UDHI).
REPLY_UDH_UD = "190A22080B912143658709F180B2CBE17919242FC3D979"
REPLY_UDH_DELIVER = "00440B919471532406F7000062116280841100" + REPLY_UDH_UD
# nrfconnect/sdk-nrf, tests/lib/sms (test_send_concat_special_character): 152 digits and a
# euro sign that does not fit the first part's 153 septets, so the whole escape pair opens
# part 2. TP-MR 5 and 6, concatenation reference 3, status report requested.
NRF_ESCAPE_PARTS = [
    ("00610505912143F500009F05000303020162B219AD66BBE172B0986C46ABD96EB81C2C269BD16AB61B2E078BC9"
     "66B49AED86CBC162B219AD66BBE172B0986C46ABD96EB81C2C269BD16AB61B2E078BC966B49AED86CBC162B219"
     "AD66BBE172B0986C46ABD96EB81C2C269BD16AB61B2E078BC966B49AED86CBC162B219AD66BBE172B0986C46AB"
     "D96EB81C2C269BD16AB61B2E078BC900", 150),
    ("00610605912143F500001305000303020236E5986C46ABD96EB81C0C", 27),
]
# Same file (test_recv_concat_len291_msgs2): part 1 of 2 of a received 7-bit message, ref 0x7E.
NRF_CONCAT_DELIVER = (
    "0791534874894310440A912143658709000012201232054480A00500037E020162B219AD66BBE172B0986C46AB"
    "D96EB81C2C269BD16AB61B2E078BC966B49AED86CBC162B219AD66BBE172B0986C46ABD96EB81C2C269BD16AB6"
    "1B2E078BC966B49AED86CBC162B219AD66BBE172B0986C46ABD96EB81C2C269BD16AB61B2E078BC966B49AED86"
    "CBC162B219AD66BBE172B0986C46ABD96EB81C2C269BD16AB61B2E078BC966"
)
# pmarti/python-messaging, messaging/test/test_sms.py (test_encoding_validity): absolute
# validity period 2010-07-25 20:15:39.
PM_ABSOLUTE_VP = "0019000B914316565811F900000170520251930004E8373B0C"


def smsc_octets(hexpdu):
    return 1 + int(hexpdu[:2], 16)


# ----------------------------------------------------------------- published vectors


def test_hellohello_deliver():
    d = pdu.decode_deliver(HELLO_DELIVER)
    assert d.smsc == "+27381000015"
    assert d.sender == "27838890001"  # TOA C8: TON 100 (subscriber), so no '+'
    assert d.sender_type == 0xC8
    assert d.pid == 0 and d.dcs == 0
    assert d.scts == (1999, 3, 29, 15, 16, 59, 8)
    assert d.scts_iso() == "1999-03-29T15:16:59+02:00"
    assert d.encoding == "gsm7"
    assert d.text == "hellohello"
    assert d.udh is None and d.concat is None
    assert d.truncated is False


def test_hellohello_submit_encodes_exactly():
    assert pdu.encode_submit("+46708251358", "hellohello", validity_minutes=4 * 1440) == [(HELLO_SUBMIT, 23)]
    s = pdu.decode_submit(HELLO_SUBMIT)
    assert s.smsc is None
    assert s.number == "+46708251358" and s.number_type == 0x91
    assert s.ref == 0
    assert s.validity == 4 * 1440 and s.validity_format == 2
    assert s.text == "hellohello" and s.encoding == "gsm7"


def test_python_messaging_submit_encodes_exactly():
    assert pdu.encode_submit("125", "hello", validity_minutes=63 * 7 * 1440) == [(PM_SUBMIT, 15)]
    s = pdu.decode_submit(PM_SUBMIT)
    assert s.number == "125" and s.number_type == 0x81
    assert s.text == "hello"


def test_chinese_ucs2_deliver():
    d = pdu.decode_deliver(CHINESE_DELIVER)
    assert d.smsc == "+8613800250500"
    assert d.sender == "+8613505165495"
    assert d.encoding == "ucs2" and d.dcs == 8
    assert d.text == "\u4f60\u597d"
    assert d.scts_iso() == "2005-02-18T15:57:54+00:00"


def test_chinese_ucs2_submit_encodes_exactly():
    ((h, n),) = pdu.encode_submit("+8613505165495", "\u4f60\u597d")
    assert h == "0001000D91683105155694F50008044F60597D"
    assert n == 18


def test_alphanumeric_sender_diafaan():
    d = pdu.decode_deliver(DIAFAAN_DELIVER)
    assert d.smsc == "+447802000332"
    assert d.sender == "diafaan"
    assert d.sender_type == 0xD0
    assert d.text == "diafaan.com"
    assert d.scts_iso() == "2011-01-11T13:25:41+00:00"
    assert d.status_report_indication


def test_alphanumeric_sender_encodes_like_the_network():
    (h,) = pdu.encode_deliver("diafaan", "diafaan.com", (2011, 1, 11, 13, 25, 41, 0), smsc="+447802000332")
    # The published PDU differs only in its first octet (it has TP-SRI set: 0x24).
    assert h[:16] == DIAFAAN_DELIVER[:16]
    assert h[16:18] == "04"
    assert h[18:] == DIAFAAN_DELIVER[18:]


def test_alphanumeric_sender_hoster():
    d = pdu.decode_deliver(HOSTER_DELIVER)
    assert d.sender == "HOSTER.RU"
    assert d.text.startswith("PROBLEM E1 interfaces")
    (h,) = pdu.encode_deliver("HOSTER.RU", "x", (2012, 8, 15, 17, 10, 4, 32))
    assert h[4:24] == "10D0C8E7945A94BAA455"  # same address field as the network's


def test_alphanumeric_sender_d1():
    d = pdu.decode_deliver(D1_DELIVER)
    assert d.sender == "SKENSNPD" and d.sender_type == 0xD1
    assert d.text == "Walter Doekes is a great guy !"


def test_ucs2_with_16bit_concat_udh():
    d = pdu.decode_deliver(UDH16_DELIVER)
    assert d.sender == "+79185455432"
    assert d.udh == binascii.unhexlify("0608040A320303")
    assert d.concat == (0x0A32, 3, 3)
    assert d.encoding == "ucs2"
    assert d.text.endswith("*115*1#")
    assert d.scts_iso() == "2018-11-15T09:46:16+03:00"


def test_alphanumeric_sender_dcs_class1_ucs2_concat():
    d = pdu.decode_deliver(BEELINE_DELIVER)
    assert d.sender == "Beeline"
    assert d.dcs == 0x19 and d.msg_class == 1 and d.encoding == "ucs2"
    assert d.concat == (0x78E0, 6, 2)
    assert d.text.startswith(" \u043c\u0438\u043d ")


def test_negative_time_zone_from_network():
    d = pdu.decode_deliver(NEGTZ_DELIVER)
    assert d.sender == "70514"
    assert d.scts == (2024, 5, 24, 13, 16, 22, -16)
    assert d.scts_iso() == "2024-05-24T13:16:22-04:00"
    assert d.text.startswith("HSN: Memorial Day Sale!")


def test_published_submit_with_smsc_and_vp_ff():
    s = pdu.decode_submit(ACCESSVBA_SUBMIT)
    assert s.smsc == "+8613800280500"
    assert s.ref == 0x51
    assert s.number == "1861"
    assert s.validity == 63 * 7 * 1440
    assert s.text == "Hello,my pretty world!"


def test_udh_with_fill_bits():
    d = pdu.decode_deliver(REPLY_UDH_DELIVER)
    assert d.smsc is None
    assert d.sender == "+49173542607"
    assert d.udh == binascii.unhexlify("0A22080B912143658709F1")
    assert d.concat is None
    assert d.text == "Please reply"


# ----------------------------------------------------------------- encoding details


def test_scts_negative_time_zone_roundtrip():
    (h,) = pdu.encode_deliver("+15551234567", "hi", (2026, 11, 26, 8, 48, 11, -14))
    assert h.endswith("62116280841149" + "02E834")  # tz 0x49: 14 quarters, sign bit 3
    d = pdu.decode_deliver(h)
    assert d.scts == (2026, 11, 26, 8, 48, 11, -14)
    assert d.scts_iso() == "2026-11-26T08:48:11-03:30"
    (h,) = pdu.encode_deliver("+15551234567", "hi", (2026, 11, 26, 8, 48, 11, 32))
    assert pdu.decode_deliver(h).scts_iso() == "2026-11-26T08:48:11+08:00"
    assert pdu.scts_iso((2026, 1, 2, 3, 4, 5, -1)) == "2026-01-02T03:04:05-00:15"


def test_extension_characters_in_submit():
    ((h, n),) = pdu.encode_submit("+4512345678", "\u20ac[]")
    s = pdu.decode_submit(h)
    assert s.encoding == "gsm7" and s.text == "\u20ac[]"
    assert h[-14:] == "06" + "9BF286B7F101"  # TP-UDL counts the escapes: 6 septets


def test_emoji_uses_surrogate_pair():
    ((h, n),) = pdu.encode_submit("+4512345678", "hi \U0001F600")
    assert h.endswith("0A006800690020D83DDE00")
    s = pdu.decode_submit(h)
    assert s.encoding == "ucs2" and s.text == "hi \U0001F600"


def test_lone_surrogates_and_odd_octet_decode_as_replacement():
    assert pdu.utf16be_decode(binascii.unhexlify("D83D0041")) == "\ufffdA"
    assert pdu.utf16be_decode(binascii.unhexlify("DE000041")) == "\ufffdA"
    assert pdu.utf16be_decode(binascii.unhexlify("004100")) == "A\ufffd"


def test_number_forms():
    ((h, _),) = pdu.encode_submit("0708251358", "x")
    assert h[6:20] == "0A817080523185"  # the tutorial's national form
    s = pdu.decode_submit(h)
    assert s.number == "0708251358" and s.number_type == 0x81
    ((h, _),) = pdu.encode_submit("*100#", "x")
    assert pdu.decode_submit(h).number == "*100#"
    for bad in ("", "+", "12a4x", "+1 555", "1" * 21):
        with raises(PduError):
            pdu.encode_submit(bad, "x")


def test_smsc_given():
    ((h, n),) = pdu.encode_submit("+46708251358", "hellohello", validity_minutes=5760, smsc="+447802000332")
    assert h.startswith("0791448720003023")
    assert h[16:] == HELLO_SUBMIT[2:]
    assert n == 23 == len(h) // 2 - smsc_octets(h)
    assert pdu.decode_submit(h).smsc == "+447802000332"


def test_status_report_request_and_no_validity():
    ((h, _),) = pdu.encode_submit("+1", "x", request_status_report=True, ref=9)
    assert h.startswith("002109")
    s = pdu.decode_submit(h)
    assert s.status_report_requested and s.validity is None and s.ref == 9


def test_validity_period_octets():
    # 23.040 9.2.3.12.1; minutes round up to the next representable period.
    cases = [(0, 0), (5, 0), (6, 1), (60, 11), (720, 143), (721, 144), (750, 144), (1440, 167),
             (1441, 168), (2 * 1440, 168), (30 * 1440, 196), (30 * 1440 + 1, 197),
             (5 * 10080, 197), (63 * 10080, 255), (10 ** 7, 255)]
    for minutes, octet in cases:
        assert pdu.vp_octet(minutes) == octet, minutes
        assert pdu.vp_minutes(octet) >= minutes or octet == 255
    for v in range(256):
        assert pdu.vp_octet(pdu.vp_minutes(v)) == v
    with raises(PduError):
        pdu.vp_octet(-1)


def test_dcs_groups():
    assert pdu.dcs_alphabet(0x00) == "gsm7"
    assert pdu.dcs_alphabet(0x04) == "8bit"
    assert pdu.dcs_alphabet(0x08) == "ucs2"
    assert pdu.dcs_alphabet(0x0C) == "gsm7"  # reserved alphabet -> default
    assert pdu.dcs_alphabet(0x18) == "ucs2" and pdu.dcs_class(0x18) == 0
    assert pdu.dcs_alphabet(0x24) == "8bit"  # compressed: kept as octets
    assert pdu.dcs_alphabet(0x48) == "ucs2"  # automatic deletion group
    assert pdu.dcs_alphabet(0xC8) == "gsm7"  # message waiting, discard
    assert pdu.dcs_alphabet(0xD0) == "gsm7"  # message waiting, store
    assert pdu.dcs_alphabet(0xE0) == "ucs2"  # message waiting, store, UCS2
    assert pdu.dcs_alphabet(0xF0) == "gsm7" and pdu.dcs_class(0xF0) == 0
    assert pdu.dcs_alphabet(0xF6) == "8bit" and pdu.dcs_class(0xF6) == 2
    assert pdu.dcs_class(0x00) is None


def test_8bit_deliver():
    h = "00040B919471532406F70004621162808411490441FF0080"
    d = pdu.decode_deliver(h)
    assert d.encoding == "8bit"
    assert d.data == b"\x41\xff\x00\x80"
    assert d.text == "A\u00ff\x00\x80"


def test_message_waiting_ucs2_deliver():
    h = "00040B919471532406F700E062116280841149024F60"
    assert pdu.decode_deliver(h).text == "\u4f60"


def test_bytes_input_and_without_smsc():
    raw = binascii.unhexlify(HELLO_DELIVER)
    assert pdu.decode_deliver(raw).text == "hellohello"
    assert pdu.decode_deliver(bytearray(raw)).text == "hellohello"
    d = pdu.decode_deliver(HELLO_DELIVER[16:], with_smsc=False)
    assert d.smsc is None and d.text == "hellohello"
    assert pdu.decode_deliver(" " + HELLO_DELIVER.lower() + "\r\n").text == "hellohello"
    assert pdu.decode_submit(HELLO_SUBMIT[2:], with_smsc=False).text == "hellohello"


# ----------------------------------------------------------------- concatenation


def test_long_gsm7_splits_into_153_septet_parts():
    text = "".join([chr(0x41 + i % 26) for i in range(400)])
    parts = pdu.encode_submit("+4915112345678", text, ref=7)
    assert len(parts) == 3
    texts = []
    for i, (h, n) in enumerate(parts):
        assert n == len(h) // 2 - 1
        s = pdu.decode_submit(h)
        assert s.concat == (7, 3, i + 1)
        assert s.udh == binascii.unhexlify("050003070301")[:5] + bytes([i + 1])
        assert s.ref == 7 + i
        texts.append(s.text)
    assert [len(t) for t in texts] == [153, 153, 94]
    assert "".join(texts) == text
    # a full part: 7 header septets (6 octets + 1 fill bit) + 153 = UDL 160, 140 octets
    assert parts[0][0][28:30] == "A0"
    assert parts[0][1] == 13 + 1 + 140


def test_escape_pair_moves_whole_to_the_next_part_like_nrf():
    text = "1234567890" * 15 + "12" + "\u20ac" + "1234567890"
    parts = pdu.encode_submit("+12345", text, ref=5, request_status_report=True, concat_ref=3)
    assert parts == NRF_ESCAPE_PARTS
    assert "".join([pdu.decode_submit(h).text for h, _ in parts]) == text


def test_nrf_concatenated_deliver():
    d = pdu.decode_deliver(NRF_CONCAT_DELIVER)
    assert d.sender == "+1234567890" and d.concat == (0x7E, 2, 1)
    assert d.text == ("1234567890" * 16)[:153]
    assert d.scts_iso() == "2021-02-21T23:50:44+02:00"


def test_absolute_validity_period():
    s = pdu.decode_submit(PM_ABSOLUTE_VP)
    assert s.validity_format == 3 and s.validity == (2010, 7, 25, 20, 15, 39, 0)
    assert s.number == "+34616585119" and s.text == "hola"


def test_exactly_160_septets_is_one_part():
    assert len(pdu.encode_submit("+1", "a" * 160)) == 1
    assert len(pdu.encode_submit("+1", "a" * 159 + "\u20ac")) == 2  # 161 septets
    assert len(pdu.encode_submit("+1", "\u4f60" * 70)) == 1
    assert len(pdu.encode_submit("+1", "\u4f60" * 71)) == 2


def test_split_never_cuts_an_escape_pair():
    text = "a" * 152 + "\u20ac" + "b" * 10
    parts = pdu.encode_submit("+1", text)
    texts = [pdu.decode_submit(h).text for h, _ in parts]
    assert texts == ["a" * 152, "\u20ac" + "b" * 10]


def test_split_never_cuts_a_surrogate_pair():
    text = "\u4f60" * 66 + "\U0001F600" + "\u597d" * 10
    parts = pdu.encode_submit("+1", text)
    texts = [pdu.decode_submit(h).text for h, _ in parts]
    assert texts == ["\u4f60" * 66, "\U0001F600" + "\u597d" * 10]
    for h, n in parts:
        d = pdu.decode_submit(h)
        assert len(d.udh) + len(d.data) <= 140


def test_long_deliver_and_reassemble():
    text = "\u041f\u0440\u0438\u0432\u0435\u0442 " * 30  # Cyrillic, 210 chars -> UCS2, 4 parts
    hs = pdu.encode_deliver("Bank", text, (2026, 1, 1, 0, 0, 0, 0), concat_ref=200)
    assert len(hs) == 4
    ds = [pdu.decode_deliver(h) for h in hs]
    for i, d in enumerate(ds):
        assert d.sender == "Bank" and d.concat == (200, 4, i + 1)
    ds.reverse()
    assert pdu.reassemble(ds) == text


def test_gsm7_concat_deliver_alignment():
    text = "0123456789" * 20 + "{end}"
    hs = pdu.encode_deliver("+31612345678", text, (2026, 3, 4, 5, 6, 7, 4))
    ds = [pdu.decode_deliver(h) for h in hs]
    assert pdu.reassemble(ds) == text
    assert ds[0].encoding == "gsm7" and ds[0].udh[:3] == b"\x05\x00\x03"


def test_empty_text():
    ((h, n),) = pdu.encode_submit("+1", "")
    assert h.endswith("000000") and pdu.decode_submit(h).text == ""


def test_encoder_argument_errors():
    with raises(PduError):
        pdu.encode_deliver("a\u4f60", "x", (2026, 1, 1, 0, 0, 0, 0))  # alphanumeric not GSM
    with raises(PduError, "11"):
        pdu.encode_deliver("ABCDEFGHIJKL", "x", (2026, 1, 1, 0, 0, 0, 0))
    with raises(PduError, "month"):
        pdu.encode_deliver("+1", "x", (2026, 13, 1, 0, 0, 0, 0))
    with raises(PduError):
        pdu.encode_deliver("+1", "x", (2026, 1, 1))
    with raises(PduError):
        pdu.encode_submit("+1", "x", ref=256)
    with raises(PduError, "parts"):
        pdu.encode_submit("+1", "a" * (153 * 255 + 1))


# ----------------------------------------------------------------- malformed input


def _cuts(decode, h):
    """decode(h cut at every octet) -> the texts of the cuts that decode (as truncated):
    those before the user data (and its header) is reached raise PduError."""
    full = decode(h)
    kept = []
    for cut in range(0, len(h) - 1, 2):
        try:
            m = decode(h[:cut])
        except PduError:
            assert not kept, cut  # once the header is whole, any cut decodes
            continue
        assert m.truncated and full.text.startswith(m.text), (cut, m.text)
        assert m.concat == full.concat
        kept.append(m.text)
    assert kept[0] == ""
    return kept


def test_a_pdu_cut_in_its_user_data_keeps_the_text_up_to_the_cut():
    for h in (HELLO_DELIVER, CHINESE_DELIVER, DIAFAAN_DELIVER, UDH16_DELIVER, REPLY_UDH_DELIVER):
        kept = _cuts(pdu.decode_deliver, h)
        assert len(kept[-1]) >= len(pdu.decode_deliver(h).text) - 2, h
    assert _cuts(pdu.decode_submit, HELLO_SUBMIT)[-1] == "hellohell"
    assert not pdu.decode_submit(HELLO_SUBMIT).truncated


def test_udl_beyond_data_keeps_every_whole_septet_and_utf16_unit():
    d = pdu.decode_deliver("00040B919471532406F7000062116280841149A0" + "41" * 20)
    assert d.truncated and len(d.text) == 22  # 160 septets claimed, 20 octets: 22 whole
    d = pdu.decode_deliver("00040B919471532406F7000862116280841149100041")
    assert d.truncated and d.text == "A"  # 16 octets claimed, 2 present
    d = pdu.decode_deliver("00040B919471532406F7000462116280841149050102")
    assert d.truncated and d.encoding == "8bit" and d.data == b"\x01\x02"
    # UCS2 cut inside a surrogate pair: the half character is dropped, not shown as U+FFFD.
    ts = (2026, 11, 26, 9, 30, 0, 32)
    h = pdu.encode_deliver("+447700900123", "a\U0001F600", ts)[0]
    assert h.endswith("060061D83DDE00")
    for cut in (2, 3, 4):
        d = pdu.decode_deliver(h[: len(h) - 2 * cut])
        assert d.truncated and d.text == "a", cut
    # GSM 7-bit cut between an escape and the character it escapes: both go.
    h = pdu.encode_deliver("+447700900123", "a\u20ac", ts)[0]  # a, ESC, 0x65
    d = pdu.decode_deliver(h[:-2])
    assert d.truncated and d.text == "a"
    # A header that does not fit is still an error: 20 octets claimed, the UDH cut.
    with raises(PduError, "TP-UDHL"):
        pdu.decode_deliver("00440B919471532406F70004621162808411491405000301")


def test_udh_longer_than_user_data():
    h = "00440B919471532406F70008621162808411490309000000"
    with raises(PduError, "TP-UDHL"):
        pdu.decode_deliver(h)
    h = "00440B919471532406F70000621162808411490206000000"  # UDL 2 septets: UDHL 6 overruns
    with raises(PduError, "TP-UDHL"):
        pdu.decode_deliver(h)
    h = "00440B919471532406F700006211628084114900"
    with raises(PduError, "UDHI"):
        pdu.decode_deliver(h)


def test_bad_hex():
    with raises(PduError, "odd"):
        pdu.decode_deliver(HELLO_DELIVER[:-1])
    with raises(PduError, "position 3"):
        pdu.decode_deliver("079G")
    with raises(PduError):
        pdu.decode_deliver("\u4f60\u597d")
    with raises(PduError):
        pdu.decode_deliver("")
    with raises(PduError):
        pdu.decode_deliver(None)
    with raises(PduError):
        pdu.decode_deliver(1234)


def test_junk_after_a_pdu_line_is_split_off():
    assert pdu.split_junk(HELLO_DELIVER + '"') == (HELLO_DELIVER, '"')
    assert pdu.split_junk(HELLO_DELIVER + ' ",') == (HELLO_DELIVER, ' ",')
    assert pdu.split_junk(HELLO_DELIVER + "?") == (HELLO_DELIVER, "?")
    assert pdu.split_junk(HELLO_DELIVER) == (HELLO_DELIVER, "")
    assert pdu.split_junk(HELLO_DELIVER + "3") == (HELLO_DELIVER, "3")  # half a pair
    assert pdu.split_junk(HELLO_DELIVER + '3"') == (HELLO_DELIVER, '3"')
    assert pdu.split_junk("\u4f60") == ("", "\u4f60")
    # With the length the modem announced, junk may hold hex digits too.
    length = len(HELLO_DELIVER) // 2 - 1 - int(HELLO_DELIVER[:2], 16)
    assert pdu.split_junk(HELLO_DELIVER + ",0", length) == (HELLO_DELIVER, ",0")
    assert pdu.split_junk(HELLO_DELIVER + '" 1', length) == (HELLO_DELIVER, '" 1')
    assert pdu.split_junk(HELLO_DELIVER, length) == (HELLO_DELIVER, "")
    # A length longer than the digits: no guess, the rule without a length applies.
    assert pdu.split_junk(HELLO_DELIVER + '"', length + 5) == (HELLO_DELIVER, '"')
    # Damage inside the PDU is not a trailer: the decoder gets it whole and names it.
    damaged = HELLO_DELIVER[:10] + '"' + HELLO_DELIVER[10:]
    assert pdu.split_junk(damaged) == (damaged, "")
    with raises(PduError, "position 10"):
        pdu.decode_deliver(pdu.split_junk(damaged)[0])
    assert pdu.decode_deliver(pdu.split_junk(HELLO_DELIVER + '"')[0]).text == "hellohello"


def test_message_type_says_what_a_stored_pdu_is():
    assert pdu.message_type(HELLO_DELIVER) == pdu.MTI_DELIVER
    assert pdu.message_type(HELLO_SUBMIT) == pdu.MTI_SUBMIT
    report = pdu.encode_status_report(1, "+1", (2026, 1, 1, 0, 0, 0, 0), (2026, 1, 1, 0, 0, 0, 0), 0)
    assert pdu.message_type(report) == pdu.MTI_STATUS_REPORT
    assert pdu.message_type(report[2:], with_smsc=False) == pdu.MTI_STATUS_REPORT
    assert pdu.message_type("0003") == 3  # reserved: decodes as nothing
    for bad in ("", "07", "0791", "zz", None):
        with raises(PduError):
            pdu.message_type(bad)


def test_wrong_message_type():
    with raises(PduError, "SMS-DELIVER"):
        pdu.decode_deliver(HELLO_SUBMIT)
    with raises(PduError, "SMS-SUBMIT"):
        pdu.decode_submit(HELLO_DELIVER)


def test_malformed_concat_element_is_ignored_not_fatal():
    # seq 0 (23.040 says ignore the element) and an element overrunning the header
    for udh in ("0500030A0200", "0500030A0203", "03000501"):
        ud = binascii.unhexlify(udh) + b"\x00\x41"
        h = "00440B919471532406F7000462116280841149%02X" % len(ud) + binascii.hexlify(ud).decode()
        d = pdu.decode_deliver(h)
        assert d.concat is None
        assert d.data == b"\x00\x41"


def test_garbage_only_raises_pdu_error():
    seeds = [HELLO_DELIVER, UDH16_DELIVER, DIAFAAN_DELIVER]
    x = 12345
    for seed in seeds:
        raw = bytearray(binascii.unhexlify(seed))
        for i in range(200):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            pos = x % len(raw)
            raw2 = bytearray(raw)
            raw2[pos] = (x >> 8) & 0xFF
            if i & 1:
                raw2 = raw2[: (x >> 16) % (len(raw2) + 1)]
            for f in (pdu.decode_deliver, pdu.decode_submit):
                try:
                    f(bytes(raw2))
                except PduError:
                    pass
