"""GSM 7-bit alphabet and septet packing. Portable: runs under pytest and MicroPython."""

import binascii

from check import raises

from branchline.proto import gsm7

# The default alphabet as Unicode code points, typed independently of gsm7.py from the
# Unicode consortium's ETSI mapping (unicode.org/Public/MAPPINGS/ETSI/GSM0338.TXT),
# except 0x09, which is CAPITAL C-cedilla as printed in 3GPP TS 23.038 6.2.1.
# None marks 0x1B, the escape to the extension table.
BASIC = [
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    0x03A3, 0x0398, 0x039E, None, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
]

# The default extension table (23.038 6.2.1.1): code after ESC -> code point.
EXTENSION = {
    0x0A: 0x000C,  # form feed
    0x14: 0x005E,  # ^
    0x28: 0x007B,  # {
    0x29: 0x007D,  # }
    0x2F: 0x005C,  # backslash
    0x3C: 0x005B,  # [
    0x3D: 0x007E,  # ~
    0x3E: 0x005D,  # ]
    0x40: 0x007C,  # |
    0x65: 0x20AC,  # euro sign
}


def unhex(s):
    return binascii.unhexlify(s)


def test_basic_table_matches_23038_both_ways():
    assert len(BASIC) == 128
    for code in range(128):
        cp = BASIC[code]
        if cp is None:
            continue
        assert gsm7.decode(bytearray([code])) == chr(cp), hex(code)
        assert gsm7.encode(chr(cp)) == bytearray([code]), hex(code)


def test_extension_table_matches_23038_both_ways():
    for code in EXTENSION:
        ch = chr(EXTENSION[code])
        assert gsm7.encode(ch) == bytearray([0x1B, code]), hex(code)
        assert gsm7.decode(bytearray([0x1B, code])) == ch, hex(code)
        assert gsm7.septet_length(ch) == 2


def test_alphabet_lists_127_basic_and_10_extension_characters():
    a = gsm7.alphabet()
    assert len(a) == 137
    seen = {}
    for ch in a:
        assert ch not in seen, ch
        seen[ch] = 1
    assert gsm7.fits(a)


def test_small_c_cedilla_is_accepted_for_0x09():
    assert gsm7.encode("\u00e7") == bytearray([0x09])
    assert gsm7.decode(bytearray([0x09])) == "\u00c7"


def test_encode_mixed_text_with_escapes():
    s = gsm7.encode("a\u20acb[c]")
    assert s == bytearray([0x61, 0x1B, 0x65, 0x62, 0x1B, 0x3C, 0x63, 0x1B, 0x3E])
    assert gsm7.decode(s) == "a\u20acb[c]"


def test_not_gsm7_names_the_character():
    with raises(gsm7.NotGsm7) as e:
        gsm7.encode("ok \u4f60")
    assert e.value.char == "\u4f60"
    assert e.value.index == 3
    assert "U+4F60" in str(e.value)
    with raises(ValueError):  # NotGsm7 is a ValueError
        gsm7.encode("`")  # grave accent is not in the default alphabet
    with raises(gsm7.NotGsm7, "U+1F600"):
        gsm7.septet_length("hi \U0001F600")


def test_fits_and_septet_length():
    assert gsm7.fits("Hello @ \u00a3 \u00e9 \u0394 {}")
    assert not gsm7.fits("Hello \u4f60")
    assert not gsm7.fits("\U0001F600")
    assert not gsm7.fits("`")
    assert gsm7.fits("")
    assert gsm7.septet_length("") == 0
    assert gsm7.septet_length("abc") == 3
    assert gsm7.septet_length("\u20ac10 ^ |") == 2 + 2 + 1 + 2 + 1 + 2


def test_unknown_escape_decodes_as_basic_character():
    # 23.038 6.2.1.1: a code with no extension-table symbol shows the basic-table one.
    assert gsm7.decode(bytearray([0x1B, 0x41])) == "A"
    assert gsm7.decode(bytearray([0x1B, 0x00])) == "@"
    assert gsm7.decode(bytearray([0x1B, 0x0D])) == "\r"  # CR2 control: shown as CR


def test_escape_escape_and_trailing_escape_decode_as_space():
    assert gsm7.decode(bytearray([0x1B, 0x1B, 0x41])) == " A"
    assert gsm7.decode(bytearray([0x41, 0x1B])) == "A "
    assert gsm7.decode(bytearray([0x1B])) == " "


def test_decode_never_raises_on_any_septet_pair():
    for a in range(128):
        for b in (0, 0x0A, 0x1B, 0x65, 0x7F, a):
            out = gsm7.decode(bytearray([a, b]))
            assert 1 <= len(out) <= 2


def test_decode_ignores_bit_7():
    assert gsm7.decode(bytearray([0xC1, 0xE2])) == "Ab"
    assert gsm7.decode(b"") == ""


def test_pack_hellohello():
    # The classic "hellohello" user data from the "SMS and the PDU format" tutorial
    # (dreamfabric.com, mirrored at subnets.ru/saved/sms_pdu_format.html).
    packed = gsm7.pack(gsm7.encode("hellohello"))
    assert packed == bytearray(unhex("E8329BFD4697D9EC37"))
    assert gsm7.decode(gsm7.unpack(packed, 10)) == "hellohello"
    # "hello" as in the python-messaging issue #24 PDU.
    assert gsm7.pack(gsm7.encode("hello")) == bytearray(unhex("E8329BFD06"))


def test_pack_eight_septets_fill_seven_octets():
    s = gsm7.encode("ABCDEFGH")
    p = gsm7.pack(s)
    assert len(p) == 7
    assert gsm7.unpack(p, 8) == s


def test_pack_with_fill_bits_after_udh():
    # From a comp.cellular thread on reply-address UDHs (alt.cellular.gsm, "Change SMS ID"):
    # an 11-octet UDH (UDHL 0x0A) is padded with 3 fill bits to 13 septets, then
    # "Please reply" follows as 80B2CBE17919242FC3D979.
    tail = unhex("80B2CBE17919242FC3D979")
    assert gsm7.decode(gsm7.unpack(tail, 12, 3)) == "Please reply"
    assert gsm7.pack(gsm7.encode("Please reply"), 3) == bytearray(tail)


def test_pack_unpack_roundtrip_every_fill():
    text = "The quick brown fox \u00e9\u00c5 {0123456789}"
    sept = gsm7.encode(text)
    for fill in range(7):
        for n in range(len(sept) + 1):
            part = sept[:n]
            p = gsm7.pack(part, fill)
            assert len(p) == gsm7.packed_length(n, fill)
            assert gsm7.unpack(p, n, fill) == part
            if p:
                assert p[0] & ((1 << fill) - 1) == 0  # fill bits are zero


def test_pack_unpack_reject_bad_arguments():
    with raises(ValueError):
        gsm7.pack(bytearray(b"\x01"), 7)
    with raises(ValueError):
        gsm7.unpack(b"\x00", 1, -1)
    with raises(ValueError, "need"):
        gsm7.unpack(unhex("E8329B"), 10)
