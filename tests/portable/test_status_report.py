"""SMS-STATUS-REPORT codec (3GPP TS 23.040 9.2.2.3). Portable: runs under pytest and MicroPython.

The +CDS PDUs below are copied from public sources, numbers as their authors published them.
"""

import binascii

from check import raises

from branchline.proto import pdu
from branchline.proto.pdu import PduError

# pmarti/python-messaging, messaging/test/test_sms.py (test_decode_sms_confirmation):
# status 0x43, a permanent failure.
PM_FAILED = "07914306073011F006270B913426565711F7012081111345400120811174054043"
# linux-mobile-broadband/ModemManager, src/mm-modem-helpers.c (the example in the +CDS
# regex comment): status 0x30, service-centre specific, SC still trying.
MM_PENDING = "07914356060013F10659098136395339F6219011707193802190117071938030"
# garronej/at-messages-parser (the "+CDS: 26" example on its CDS class): delivered, via
# a China Mobile SMSC, time zone +00.
GARRONEJ_DELIVERED = "0891683108608805F906750D91683109731147F4313050913492003130509134430000"
# A public C# GSM-modem form on GitHub, in its comment on AT+CNMI=2,1,0,1,0 ("+CDS: 25
# ..."; our code search did not name the repository): delivered, Iran summer time
# +04:30 (18 quarter hours).
IRAN_DELIVERED = "079189390500410006270C81891942345447228013023041812280130230718100"
# nrfconnect/sdk-nrf, tests/lib/sms (the +CDS test): the nRF91 gives no SMSC prefix.
NRF_NO_SMSC = "06550A912143658709122022118314801220221183148000"


def test_permanent_failure_python_messaging():
    r = pdu.decode_status_report(PM_FAILED)
    assert r.smsc == "+34607003110"
    assert r.message_ref == 0x27
    assert r.recipient == "+43626575117" and r.recipient_type == 0x91
    assert r.scts == (2010, 2, 18, 11, 31, 54, 4)
    assert r.scts_iso() == "2010-02-18T11:31:54+01:00"
    assert r.discharge_iso() == "2010-02-18T11:47:50+01:00"
    assert r.status == 0x43 and r.status_kind == "failed"
    assert r.status_text == "not obtainable"
    assert not r.more_messages and not r.answers_command
    assert r.pid is None and r.dcs is None and r.text is None and r.trailer_error is None


def test_sc_specific_pending_modemmanager():
    r = pdu.decode_status_report(MM_PENDING)
    assert r.smsc == "+34656000311"
    assert r.message_ref == 0x59
    assert r.recipient == "639335936" and r.recipient_type == 0x81
    assert r.scts_iso() == r.discharge_iso() == "2012-09-11T07:17:39+02:00"
    assert r.status == 0x30 and r.status_kind == "pending"
    assert "specific" in r.status_text and "still trying" in r.status_text


def test_delivered_reports():
    r = pdu.decode_status_report(GARRONEJ_DELIVERED)
    assert r.smsc == "+8613800688509"
    assert (r.message_ref, r.recipient) == (0x75, "+8613903711744")
    assert r.discharge_iso() == "2013-03-05T19:43:34+00:00"
    assert r.status_kind == "delivered" and r.status_text == "received by the recipient"
    r = pdu.decode_status_report(IRAN_DELIVERED)
    assert (r.message_ref, r.recipient) == (0x27, "989124434574")
    assert r.scts_iso() == "2022-08-31T20:03:14+04:30"
    assert r.discharge_iso() == "2022-08-31T20:03:17+04:30"
    assert r.status_kind == "delivered"


def test_report_without_smsc_prefix():
    assert not pdu.has_smsc(NRF_NO_SMSC, 24)
    r = pdu.decode_status_report(NRF_NO_SMSC, with_smsc=False)
    assert r.smsc is None
    assert (r.message_ref, r.recipient, r.status_kind) == (0x55, "+1234567890", "delivered")
    assert r.scts_iso() == "2021-02-22T11:38:41+02:00"


def test_has_smsc_uses_the_modem_length():
    assert pdu.has_smsc(PM_FAILED, 25)
    assert pdu.has_smsc(binascii.unhexlify(GARRONEJ_DELIVERED), 26)
    assert pdu.has_smsc("0006550A912143658709", 9)  # "00": the SIM's SMSC, 1 octet
    with raises(PduError, "neither"):
        pdu.has_smsc(PM_FAILED, 20)
    with raises(PduError):
        pdu.has_smsc("", 3)


# ----------------------------------------------------------------- TP-ST classification


def test_status_groups_per_23040():
    kinds = {}
    for st in range(256):
        kinds[st] = pdu.status_kind(st)
    for st in (0x00, 0x01, 0x02, 0x10, 0x1F):
        assert kinds[st] == "delivered", st
    for st in (0x20, 0x21, 0x25, 0x30, 0x3F):
        assert kinds[st] == "pending", st
    for st in (0x40, 0x46, 0x49, 0x50, 0x5F, 0x60, 0x65, 0x70, 0x7F):
        assert kinds[st] == "failed", st
    # reserved values read as 'service rejected, SC gave up'
    for st in (0x03, 0x0F, 0x26, 0x2F, 0x4A, 0x4F, 0x66, 0x6F, 0x80, 0xFF):
        assert kinds[st] == "failed", st
        assert "reserved" in pdu.status_text(st)


def test_status_texts():
    assert pdu.status_text(0x21) == "recipient busy, SC still trying"
    assert pdu.status_text(0x61) == "recipient busy, SC gave up"
    assert pdu.status_text(0x46) == "validity period expired"
    assert pdu.status_text(0x01) == "forwarded to the recipient, delivery not confirmed"
    assert pdu.status_text(0x55) == "service-centre specific status 0x55 (failed)"
    for st in range(256):
        assert isinstance(pdu.status_text(st), str) and pdu.status_text(st)


# ----------------------------------------------------------------- encoder and optional fields


def test_encode_reproduces_published_reports():
    h = pdu.encode_status_report(0x75, "+8613903711744", (2013, 3, 5, 19, 43, 29, 0),
                                 (2013, 3, 5, 19, 43, 34, 0), 0, smsc="+8613800688509")
    assert h == GARRONEJ_DELIVERED and pdu.has_smsc(h, 26)
    h = pdu.encode_status_report(0x55, "+1234567890", (2021, 2, 22, 11, 38, 41, 8),
                                 (2021, 2, 22, 11, 38, 41, 8), 0)
    assert h == "00" + NRF_NO_SMSC and pdu.has_smsc(h, 24)


def test_encode_roundtrip_and_argument_errors():
    ts = (2026, 11, 26, 8, 48, 11, -14)
    for st in (0x00, 0x22, 0x46, 0x63):
        h = pdu.encode_status_report(255, "0171234567", ts, ts, st)
        r = pdu.decode_status_report(h)
        assert (r.message_ref, r.recipient, r.status, r.discharge_time) == (255, "0171234567", st, ts)
    for bad in ((256, "+1", 0), (-1, "+1", 0), (1, "+1", 256), (1, "", 0), (1, "+1x", 0)):
        with raises(PduError):
            pdu.encode_status_report(bad[0], bad[1], ts, ts, bad[2])


def _with_trailer(trailer_hex):
    # A published report (no SMSC prefix) followed by TP-PI and what it announces.
    return NRF_NO_SMSC + trailer_hex


def test_optional_pid_dcs_and_user_data():
    r = pdu.decode_status_report(_with_trailer("07" + "00" + "00" + "02" + "E834"), with_smsc=False)
    assert (r.pid, r.dcs, r.encoding, r.text, r.trailer_error) == (0, 0, "gsm7", "hi", None)
    # UDL without DCS: the default alphabet is assumed
    r = pdu.decode_status_report(_with_trailer("04" + "02E834"), with_smsc=False)
    assert r.dcs is None and r.text == "hi"
    # UCS2 user data, PID absent
    r = pdu.decode_status_report(_with_trailer("06" + "08" + "044F60597D"), with_smsc=False)
    assert r.pid is None and r.encoding == "ucs2" and r.text == "\u4f60\u597d"
    # an extension TP-PI octet is skipped; PI 00 (padding some modems add) means nothing
    r = pdu.decode_status_report(_with_trailer("8100" + "7F"), with_smsc=False)
    assert r.pid == 0x7F
    r = pdu.decode_status_report(_with_trailer("00"), with_smsc=False)
    assert r.pid is None and r.text is None and r.trailer_error is None


def test_broken_trailer_keeps_the_status():
    for trailer in ("01", "07", "0700", "04" + "0A41", "8080"):
        r = pdu.decode_status_report(_with_trailer(trailer), with_smsc=False)
        assert r.status_kind == "delivered" and r.message_ref == 0x55
        assert r.trailer_error, trailer


def test_truncations_and_wrong_types_raise_pdu_error():
    for h in (PM_FAILED, MM_PENDING, GARRONEJ_DELIVERED):
        for cut in range(0, len(h) - 1, 2):
            with raises(PduError):
                pdu.decode_status_report(h[:cut])
    with raises(PduError, "SMS-STATUS-REPORT"):
        pdu.decode_status_report("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    with raises(PduError, "SMS-STATUS-REPORT"):
        pdu.decode_status_report("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    for junk in (None, 7, "zz", "0"):
        with raises(PduError):
            pdu.decode_status_report(junk)
