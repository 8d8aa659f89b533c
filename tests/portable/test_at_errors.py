"""+CMS / +CME ERROR tables and the retry classification. Portable: pytest and MicroPython."""

from check import raises

from branchline.proto import at_errors
from branchline.proto.at_errors import CME, CMS, MODEM, PERMANENT, TEMPORARY


def test_describe_names_kind_and_code():
    assert at_errors.describe("CME", 10) == "SIM not inserted (CME 10)"
    assert at_errors.describe("cms", 310) == "(U)SIM not inserted (CMS 310)"
    assert at_errors.describe(CMS, 500) == "unknown error (CMS 500)"
    assert at_errors.describe(CMS, 42) == "congestion (CMS 42)"  # an RP-Cause (24.011)
    assert at_errors.describe(CMS, 197) == "SM rejected, duplicate SM (CMS 197)"  # a TP-FCS
    assert at_errors.describe(CME, 133) == "requested service option not subscribed (CME 133)"
    assert at_errors.describe(CME, 9999) == "unrecognised code (CME 9999)"
    assert at_errors.describe(CMS, 256) == "unrecognised code (CMS 256)"
    with raises(ValueError):
        at_errors.describe("CMX", 1)


def test_verbose_codes_are_kept():
    assert at_errors.describe(CME, "SIM PIN required") == "SIM PIN required (CME)"
    assert at_errors.cms_kind("network timeout") == TEMPORARY
    # at.py reports code None when the error carries no number
    assert at_errors.describe(CMS, None) == "error without a code (CMS)"
    assert at_errors.cms_is_temporary(None) and at_errors.reason(CME, None) == "unrecognised code"


def test_vendor_codes():
    assert at_errors.describe(CMS, 512) == "manufacturer-specific error (CMS 512)"
    assert at_errors.describe(CMS, 512, vendor="quectel") == "SIM not ready (CMS 512)"
    assert at_errors.reason(CMS, 516, vendor="quectel") == "manufacturer-specific error"
    assert at_errors.reason(CMS, 531, vendor="simcom") == "manufacturer-specific error"
    assert at_errors.cms_is_temporary(512) and at_errors.cms_is_temporary(530)


def test_parse_final_result_lines():
    assert at_errors.parse("+CMS ERROR: 500") == (CMS, 500)
    assert at_errors.parse("+CME ERROR:10") == (CME, 10)
    assert at_errors.parse("+CME ERROR: SIM not inserted") == (CME, "SIM not inserted")
    assert at_errors.parse("ERROR") is None
    assert at_errors.parse("+CMTI: \"SM\",3") is None


def test_sending_decisions():
    # retry the same PDU with backoff
    for code in (17, 38, 41, 42, 47, 111, 192, 194, 255, 301, 314, 331, 332, 500, 512, 600, 256, 0):
        assert at_errors.cms_kind(code) == TEMPORARY, code
        assert at_errors.cms_is_temporary(code), code
    # the modem or its SIM cannot send: another modem, or this one after a reset
    for code in (193, 300, 302, 303, 310, 311, 313, 315, 316, 320, 322, 330):
        assert at_errors.cms_kind(code) == MODEM, code
        assert not at_errors.cms_is_temporary(code), code
    # the message itself cannot go: mark it failed
    for code in (1, 8, 10, 21, 28, 29, 30, 50, 96, 128, 144, 195, 196, 197, 304, 305, 321, 340):
        assert at_errors.cms_kind(code) == PERMANENT, code
        assert not at_errors.cms_is_temporary(code), code


def test_every_code_has_a_reason_and_a_kind():
    for code in range(0, 1100):
        assert at_errors.cms_kind(code) in (TEMPORARY, MODEM, PERMANENT)
        for kind in (CMS, CME):
            text = at_errors.describe(kind, code)
            assert text.endswith(" %d)" % code) and text[0] != " "


def test_standard_cme_codes():
    expected = {0: "phone failure", 3: "operation not allowed", 11: "SIM PIN required",
                12: "SIM PUK required", 14: "SIM busy", 30: "no network service",
                31: "network timeout", 100: "unknown", 103: "illegal MS", 111: "PLMN not allowed",
                148: "unspecified GPRS error", 150: "invalid mobile class"}
    for code in expected:
        assert at_errors.reason(CME, code) == expected[code], code
