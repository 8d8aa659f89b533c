"""GSM 7-bit default alphabet (3GPP TS 23.038 6.2.1 / 6.2.1.1) and septet packing (6.1.2.1.1).

Portable: runs unchanged on CPython 3.11+ and MicroPython 1.22+. Sans-I/O.

Septets are handled two ways:
- unpacked: a bytearray with one septet (0..127) per byte, as `encode` returns and `decode` takes;
- packed: the over-the-air form, septets laid LSB first into octets (`pack` / `unpack`).

Only the default alphabet and its default extension table are supported (no national
language shift tables).
"""

from branchline.compat import const

ESC = const(0x1B)

# The 128 characters of the default alphabet, in code order (23.038 6.2.1, table 1).
# 0x1B is the escape to the extension table; it is never produced by `decode` on its own.
# 0x09 is CAPITAL C with cedilla as printed in 23.038 (the Unicode consortium's mapping
# file uses the small letter); `encode` accepts both.
_BASIC = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"  # 0x00
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9"  # 0x10
    " !\"#\u00a4%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "\u00a1ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"  # 0x50
    "\u00bfabcdefghijklmno"  # 0x60
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"  # 0x70
)

# The default extension table (23.038 6.2.1.1): code after ESC -> character.
_EXT = {
    0x0A: "\x0c",  # FORM FEED (page break)
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "\u20ac",  # EURO SIGN
}

_ENC = {}
for _i in range(128):
    if _i != ESC:
        _ENC[_BASIC[_i]] = _i
_ENC["\u00e7"] = 0x09  # small c with cedilla: the Unicode mapping's reading of 0x09

_ENC_EXT = {}
for _k in _EXT:
    _ENC_EXT[_EXT[_k]] = _k
del _i, _k


class NotGsm7(ValueError):
    """A character has no representation in the GSM 7-bit default alphabet + extension."""

    def __init__(self, char, index):
        super().__init__(
            "character %r (U+%04X) at index %d is not in the GSM 7-bit alphabet" % (char, ord(char), index)
        )
        self.char = char
        self.index = index


def alphabet():
    """All characters `decode` can produce for single septets and escape pairs (for tests)."""
    return _BASIC[:ESC] + _BASIC[ESC + 1 :] + "".join(_EXT[k] for k in sorted(_EXT))


def by_cost():
    """(the characters that cost one septet, those that cost two): what a page needs
    to count a text's parts as `pdu.part_count` does."""
    return "".join(sorted(_ENC)), "".join(sorted(_ENC_EXT))


def char_septets(ch):
    """Septet cost of one character: 1, 2 (escape pair), or 0 when not representable."""
    if ch in _ENC:
        return 1
    if ch in _ENC_EXT:
        return 2
    return 0


def encode(text):
    """Text -> bytearray of unpacked septets. Raises NotGsm7 naming the first bad character."""
    out = bytearray()
    i = 0
    for ch in text:
        code = _ENC.get(ch)
        if code is not None:
            out.append(code)
        else:
            code = _ENC_EXT.get(ch)
            if code is None:
                raise NotGsm7(ch, i)
            out.append(ESC)
            out.append(code)
        i += 1
    return out


def decode(septets):
    """Unpacked septets -> text. Never raises for any byte values.

    Bit 7 of each input byte is ignored. An escape followed by a code the extension
    table does not define shows the basic-table character for that code (23.038
    6.2.1.1 note); ESC ESC (reserved for a further extension table) and a trailing
    lone ESC show a space.
    """
    out = []
    n = len(septets)
    i = 0
    while i < n:
        c = septets[i] & 0x7F
        i += 1
        if c != ESC:
            out.append(_BASIC[c])
            continue
        if i >= n:
            out.append(" ")
            break
        c = septets[i] & 0x7F
        i += 1
        if c == ESC:
            out.append(" ")
            continue
        ch = _EXT.get(c)
        out.append(ch if ch is not None else _BASIC[c])
    return "".join(out)


def fits(text):
    """True when every character of `text` is representable in GSM 7-bit."""
    for ch in text:
        if ch not in _ENC and ch not in _ENC_EXT:
            return False
    return True


def septet_length(text):
    """Number of septets `text` encodes to (extension characters count 2). Raises NotGsm7."""
    n = 0
    i = 0
    for ch in text:
        if ch in _ENC:
            n += 1
        elif ch in _ENC_EXT:
            n += 2
        else:
            raise NotGsm7(ch, i)
        i += 1
    return n


def packed_length(n_septets, fill_bits=0):
    """Octets that `n_septets` septets occupy after `fill_bits` leading fill bits."""
    return (fill_bits + 7 * n_septets + 7) // 8


def pack(septets, fill_bits=0):
    """Pack septets LSB first into octets, after `fill_bits` (0..6) zero fill bits.

    The fill bits occupy the low bits of the first output octet; use them to align the
    text to a septet boundary after a user data header (23.040 9.2.3.24).
    """
    if fill_bits < 0 or fill_bits > 6:
        raise ValueError("fill_bits must be 0..6, got %d" % fill_bits)
    out = bytearray(packed_length(len(septets), fill_bits))
    bit = fill_bits
    for s in septets:
        s &= 0x7F
        byte = bit >> 3
        shift = bit & 7
        out[byte] |= (s << shift) & 0xFF
        if shift > 1:
            out[byte + 1] |= s >> (8 - shift)
        bit += 7
    return out


def unpack(data, n_septets, fill_bits=0):
    """Inverse of `pack`: read `n_septets` septets after `fill_bits` fill bits.

    Raises ValueError when `data` is too short for that many septets.
    """
    if fill_bits < 0 or fill_bits > 6:
        raise ValueError("fill_bits must be 0..6, got %d" % fill_bits)
    if n_septets < 0:
        raise ValueError("negative septet count")
    need = packed_length(n_septets, fill_bits)
    if len(data) < need:
        raise ValueError("%d septets need %d octets, only %d given" % (n_septets, need, len(data)))
    out = bytearray(n_septets)
    bit = fill_bits
    for i in range(n_septets):
        byte = bit >> 3
        shift = bit & 7
        v = data[byte] >> shift
        if shift > 1:
            v |= data[byte + 1] << (8 - shift)
        out[i] = v & 0x7F
        bit += 7
    return out
