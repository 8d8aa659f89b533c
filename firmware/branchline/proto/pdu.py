"""SMS PDU codec: SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT TPDUs (3GPP TS 23.040 9.2)
with the SMSC address prefix used by AT+CMGR / AT+CMGS / +CDS in PDU mode (3GPP TS 27.005).

Portable (CPython 3.11+ and MicroPython 1.22+) and sans-I/O: hex strings or bytes in,
plain objects out. Decoders never raise anything but `PduError` so a gateway can log the
message and skip the PDU.

Alphabets: GSM 7-bit default alphabet + extension table (see gsm7.py), 8-bit data, and
UCS2, which is written as UTF-16BE (surrogate pairs for characters beyond the BMP, as
handsets do). Long texts are split into concatenated parts (23.040 9.2.3.24.1, IEI 0x00);
both the 8-bit (IEI 0x00) and 16-bit (IEI 0x08) reference forms are decoded.

Input convention for decoders: a `str` is hex text (whitespace at either end ignored);
`bytes`/`bytearray`/`memoryview` are the raw octets.
"""

import binascii

from branchline.compat import const
from branchline.proto import gsm7

MAX_UD_OCTETS = const(140)  # TP-UD capacity of one TPDU
GSM7_SINGLE = const(160)  # septets in a message without UDH
GSM7_PART = const(153)  # septets per part after a 6-octet concatenation UDH
UCS2_SINGLE = const(70)  # UTF-16 code units without UDH
UCS2_PART = const(67)  # UTF-16 code units per part after the UDH
MAX_PARTS = const(255)

TOA_INTERNATIONAL = const(0x91)  # TON 001 international, NPI 0001 ISDN/E.164
TOA_UNKNOWN = const(0x81)  # TON 000 unknown, NPI 0001
TOA_ALPHANUMERIC = const(0xD0)  # bit 7 always 1, TON 101 alphanumeric (GSM 7-bit packed), NPI 0000

_TON_INTERNATIONAL = const(1)
_TON_ALPHANUMERIC = const(5)

# TP-MTI (23.040 9.2.3.1), as received by the MS: what kind of TPDU it is.
MTI_DELIVER = const(0)
MTI_SUBMIT = const(1)  # a stored one: a draft or a copy written with AT+CMGW
MTI_STATUS_REPORT = const(2)

_FO_UDHI = const(0x40)
_FO_SRR = const(0x20)  # SUBMIT: status report request
_FO_SRI = const(0x20)  # DELIVER: status report indication
_FO_RP = const(0x80)
_FO_RD = const(0x04)  # SUBMIT: reject duplicates
_FO_MMS = const(0x04)  # DELIVER, STATUS-REPORT: 1 = no more messages waiting
_FO_SRQ = const(0x20)  # STATUS-REPORT: 1 = the report answers an SMS-COMMAND, not a SUBMIT

# TP-PI (23.040 9.2.3.27): which optional fields follow in a status report.
_PI_PID = const(0x01)
_PI_DCS = const(0x02)
_PI_UDL = const(0x04)
_PI_EXTENSION = const(0x80)

_VPF_NONE = const(0)
_VPF_ENHANCED = const(1)
_VPF_RELATIVE = const(2)
_VPF_ABSOLUTE = const(3)

_IEI_CONCAT8 = const(0x00)
_IEI_CONCAT16 = const(0x08)

_HEX = "0123456789abcdefABCDEF"
_BCD_OUT = "0123456789*#abc"  # semi-octet values 0..14 (23.040 9.1.2.3); 15 is fill
_BCD_IN = {"*": 10, "#": 11, "a": 12, "b": 13, "c": 14, "A": 12, "B": 13, "C": 14}


class PduError(ValueError):
    """A PDU (or an argument to an encoder) is malformed; the message names what is wrong."""


# --------------------------------------------------------------------------- octet input


def _to_bytes(hex_or_bytes):
    if isinstance(hex_or_bytes, str):
        s = hex_or_bytes.strip()
        i = 0
        for ch in s:
            if ch not in _HEX:
                raise PduError("bad hex digit %r at position %d" % (ch, i))
            i += 1
        if len(s) & 1:
            raise PduError("odd number of hex digits (%d)" % len(s))
        return binascii.unhexlify(s)
    if isinstance(hex_or_bytes, (bytes, bytearray)):
        return bytes(hex_or_bytes)
    try:
        if isinstance(hex_or_bytes, memoryview):
            return bytes(hex_or_bytes)
    except NameError:  # a MicroPython port built without memoryview
        pass
    raise PduError("expected a hex string or bytes, got %s" % type(hex_or_bytes).__name__)


def _hex(b):
    return binascii.hexlify(b).decode().upper()


def split_junk(line, tpdu_length=None):
    """A PDU line as a modem printed it -> (hex, junk). Some modems end the line with a
    stray '"', a space or more. With the TPDU length the modem announced (+CMGR,
    +CMGL, +CMT, +CDS give it), the PDU is exactly that long after its SMSC prefix
    and whatever follows is junk, hex digits or not. Without it: the whole hex digit
    pairs the line starts with, when what trails them holds no hex digit; a line with
    more digits after something else is damaged inside and comes back whole, with no
    junk, for the decoder to name."""
    n = 0
    while n < len(line) and line[n] in _HEX:
        n += 1
    if tpdu_length is not None and n >= 2:
        end = 2 * (int(line[:2], 16) + 1 + tpdu_length)
        if end <= n:
            return line[:end], line[end:]
    for ch in line[n:]:
        if ch in _HEX:
            return line, ""
    n -= n & 1
    return line[:n], line[n:]


class _Reader:
    """Bounds-checked cursor over the PDU octets."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def left(self):
        return len(self.data) - self.pos

    def octet(self, what):
        if self.pos >= len(self.data):
            raise PduError("PDU ends at octet %d where %s was expected" % (self.pos, what))
        v = self.data[self.pos]
        self.pos += 1
        return v

    def take(self, n, what):
        if self.left() < n:
            raise PduError(
                "%s needs %d octets at offset %d but only %d remain" % (what, n, self.pos, self.left())
            )
        v = self.data[self.pos : self.pos + n]
        self.pos += n
        return v

    def rest(self):
        v = self.data[self.pos :]
        self.pos = len(self.data)
        return v


# --------------------------------------------------------------------------- addresses


def _bcd_decode(raw, n_digits):
    out = []
    for b in raw:
        for nib in (b & 0x0F, b >> 4):
            if len(out) >= n_digits:
                break
            if nib != 0x0F:
                out.append(_BCD_OUT[nib])
    return "".join(out)


def _bcd_encode(digits, what):
    out = bytearray()
    vals = []
    i = 0
    for ch in digits:
        if "0" <= ch <= "9":
            vals.append(ord(ch) - 48)
        elif ch in _BCD_IN:
            vals.append(_BCD_IN[ch])
        else:
            raise PduError("%s has a character %r at index %d that is not a digit, *, #, a, b or c" % (what, ch, i))
        i += 1
    if len(vals) & 1:
        vals.append(0x0F)
    for j in range(0, len(vals), 2):
        out.append(vals[j] | (vals[j + 1] << 4))
    return out


def _address_text(toa, raw, n_semi):
    """Value of an address field: '+digits', 'digits', or decoded alphanumeric text."""
    ton = (toa >> 4) & 0x07
    if ton == _TON_ALPHANUMERIC:
        n_septets = (n_semi * 4) // 7
        return gsm7.decode(gsm7.unpack(raw, n_septets))
    digits = _bcd_decode(raw, n_semi)
    if ton == _TON_INTERNATIONAL:
        return "+" + digits
    return digits


def _read_address(r, what):
    """TP-OA / TP-DA: length in useful semi-octets, type-of-address, value."""
    n_semi = r.octet(what + " length")
    toa = r.octet(what + " type-of-address")
    raw = r.take((n_semi + 1) // 2, what)
    return _address_text(toa, raw, n_semi), toa


def _read_smsc(r):
    n = r.octet("SMSC length")
    if n == 0:
        return None
    raw = r.take(n, "SMSC address")
    return _address_text(raw[0], raw[1:], 2 * (n - 1))


def _is_number(s):
    if s.startswith("+"):
        s = s[1:]
    if not s:
        return False
    for ch in s:
        if not ("0" <= ch <= "9" or ch == "*" or ch == "#"):
            return False
    return True


def _address_parts(address, what, alpha_ok):
    """-> (type-of-address, value octets, length in semi-octets)."""
    if not isinstance(address, str) or not address:
        raise PduError("%s must be a non-empty string" % what)
    if alpha_ok and not _is_number(address):
        try:
            septets = gsm7.encode(address)
        except gsm7.NotGsm7 as e:
            raise PduError("alphanumeric %s: %s" % (what, e))
        if len(septets) > 11:
            raise PduError("alphanumeric %s %r is %d septets, at most 11 fit" % (what, address, len(septets)))
        return TOA_ALPHANUMERIC, gsm7.pack(septets), (len(septets) * 7 + 3) // 4
    if address.startswith("+"):
        toa = TOA_INTERNATIONAL
        digits = address[1:]
    else:
        toa = TOA_UNKNOWN
        digits = address
    if not digits:
        raise PduError("%s %r has no digits" % (what, address))
    if len(digits) > 20:
        raise PduError("%s %r has %d digits, at most 20 fit" % (what, address, len(digits)))
    return toa, _bcd_encode(digits, what), len(digits)


def _address_field(address, what, alpha_ok=False):
    """TP-OA / TP-DA field octets."""
    toa, value, n_semi = _address_parts(address, what, alpha_ok)
    return bytes([n_semi, toa]) + bytes(value)


def _smsc_field(smsc):
    """SMSC prefix: '00' (use the SIM's SMSC) or length-in-octets, TOA, BCD digits."""
    if smsc is None or smsc == "":
        return b"\x00"
    toa, value, _ = _address_parts(smsc, "SMSC", False)
    return bytes([len(value) + 1, toa]) + bytes(value)


# --------------------------------------------------------------------------- time stamps


def _swap(b):
    return (b & 0x0F) * 10 + (b >> 4)


def _unswap(v):
    return (v % 10) << 4 | (v // 10)


def _decode_scts(raw):
    """7 semi-octet time stamp octets -> (year, month, day, hour, minute, second, tz_quarters).

    Two-digit years map to 1970..2069. Nibbles above 9 are not rejected (a garbled time
    stamp should not lose the message); they just produce odd values.
    """
    yy = _swap(raw[0])
    year = 1900 + yy if yy >= 70 else 2000 + yy
    tzb = raw[6]
    tz = (tzb & 0x07) * 10 + (tzb >> 4)
    if tzb & 0x08:
        tz = -tz
    return (year, _swap(raw[1]), _swap(raw[2]), _swap(raw[3]), _swap(raw[4]), _swap(raw[5]), tz)


def _encode_scts(t):
    try:
        year, month, day, hour, minute, second, tz = t
    except (TypeError, ValueError):
        raise PduError("time stamp must be (year, month, day, hour, minute, second, tz_quarter_hours)")
    fields = (("year", year % 100, 0, 99), ("month", month, 1, 12), ("day", day, 1, 31),
              ("hour", hour, 0, 23), ("minute", minute, 0, 59), ("second", second, 0, 59))
    out = bytearray()
    for name, v, lo, hi in fields:
        if not lo <= v <= hi:
            raise PduError("time stamp %s %r out of range %d..%d" % (name, v, lo, hi))
        out.append(_unswap(v))
    if not -79 <= tz <= 79:
        raise PduError("time zone %r quarter hours out of range -79..79" % (tz,))
    a = -tz if tz < 0 else tz
    out.append(((a % 10) << 4) | (a // 10) | (0x08 if tz < 0 else 0))
    return out


def scts_iso(t):
    """(year, month, day, hour, minute, second, tz_quarters) -> '2026-11-26T08:48:11+08:00'."""
    tz = t[6]
    sign = "-" if tz < 0 else "+"
    a = -tz if tz < 0 else tz
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (
        t[0], t[1], t[2], t[3], t[4], t[5], sign, a // 4, (a % 4) * 15)


# --------------------------------------------------------------------------- validity period


def vp_minutes(vp):
    """Relative TP-VP octet -> minutes (23.040 9.2.3.12.1)."""
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 720 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 1440
    return (vp - 192) * 10080


def _ceil_div(a, b):
    return (a + b - 1) // b


def vp_octet(minutes):
    """Minutes -> the smallest relative TP-VP octet lasting at least that long (max 63 weeks)."""
    if not isinstance(minutes, int) or minutes < 0:
        raise PduError("validity_minutes must be a non-negative int, got %r" % (minutes,))
    if minutes <= 720:
        return max(0, _ceil_div(minutes, 5) - 1)
    if minutes <= 1440:
        return 143 + _ceil_div(minutes - 720, 30)
    if minutes <= 30 * 1440:
        return 166 + _ceil_div(minutes, 1440)
    if minutes <= 63 * 10080:
        return 192 + _ceil_div(minutes, 10080)
    return 255


# --------------------------------------------------------------------------- UCS2 / UTF-16


def _utf16_units(ch):
    return 2 if ord(ch) > 0xFFFF else 1


def utf16be_encode(text):
    out = bytearray()
    for ch in text:
        c = ord(ch)
        if c > 0xFFFF:
            c -= 0x10000
            hi = 0xD800 | (c >> 10)
            lo = 0xDC00 | (c & 0x3FF)
            out.append(hi >> 8)
            out.append(hi & 0xFF)
            out.append(lo >> 8)
            out.append(lo & 0xFF)
        else:
            out.append(c >> 8)
            out.append(c & 0xFF)
    return out


def utf16be_decode(data):
    """UTF-16BE -> str; lone surrogates and a dangling odd octet become U+FFFD."""
    out = []
    n = len(data) - (len(data) & 1)
    i = 0
    while i < n:
        u = (data[i] << 8) | data[i + 1]
        i += 2
        if 0xD800 <= u <= 0xDBFF:
            if i < n:
                u2 = (data[i] << 8) | data[i + 1]
                if 0xDC00 <= u2 <= 0xDFFF:
                    i += 2
                    out.append(chr(0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00)))
                    continue
            out.append("\ufffd")
        elif 0xDC00 <= u <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(chr(u))
    if len(data) & 1:
        out.append("\ufffd")
    return "".join(out)


# --------------------------------------------------------------------------- data coding


def dcs_alphabet(dcs):
    """TP-DCS -> 'gsm7' | '8bit' | 'ucs2' (23.038 section 4).

    Compressed text is reported as '8bit' (its octets are kept, not decompressed);
    reserved codings are read as the GSM 7-bit default alphabet, as 23.038 asks.
    """
    group = dcs >> 4
    if group <= 0x07:  # 00xx general data coding, 01xx same with automatic deletion
        if dcs & 0x20:
            return "8bit"
        alpha = (dcs >> 2) & 0x03
        if alpha == 1:
            return "8bit"
        if alpha == 2:
            return "ucs2"
        return "gsm7"
    if group == 0x0E:  # message waiting indication, store, UCS2
        return "ucs2"
    if group == 0x0F:  # data coding / message class
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"  # 1000..1011 reserved, 1100/1101 message waiting (GSM 7-bit)


def dcs_class(dcs):
    """Message class 0..3 from TP-DCS, or None when the DCS gives none."""
    group = dcs >> 4
    if group <= 0x07:
        return dcs & 0x03 if dcs & 0x10 else None
    if group == 0x0F:
        return dcs & 0x03
    return None


_DCS_FOR = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}


# --------------------------------------------------------------------------- user data


def _fill_bits(udh_octets):
    return (7 - (udh_octets * 8) % 7) % 7


def _parse_concat(udh):
    """(ref, total, seq) from a UDH (UDHL octet included), or None.

    Information elements are walked leniently: a malformed header only loses the
    concatenation info, never the text. An element with total or seq 0, or seq > total,
    is ignored as 23.040 9.2.3.24.1 asks.
    """
    i = 1
    n = len(udh)
    found = None
    while i + 2 <= n:
        iei = udh[i]
        iel = udh[i + 1]
        body = udh[i + 2 : i + 2 + iel]
        if len(body) < iel:
            break
        if iei == _IEI_CONCAT8 and iel == 3:
            ref, total, seq = body[0], body[1], body[2]
        elif iei == _IEI_CONCAT16 and iel == 4:
            ref, total, seq = (body[0] << 8) | body[1], body[2], body[3]
        else:
            i += 2 + iel
            continue
        if total and seq and seq <= total:
            found = (ref, total, seq)
        i += 2 + iel
    return found


def _read_ud(r, dcs, udhi):
    """TP-UDL + TP-UD -> (encoding, text, data, udh, concat, short).

    User data shorter than TP-UDL claims (a modem that cut it) is kept as far as it
    goes: every whole septet, every whole UTF-16 unit, every octet; `short` then says
    what was missing (else None). A header that does not fit still raises PduError.
    """
    enc = dcs_alphabet(dcs)
    udl = r.octet("TP-UDL")
    rest = r.rest()  # octets beyond TP-UDL's extent are tolerated (some modems pad)
    short = None
    if enc == "gsm7":
        need = gsm7.packed_length(udl)
        if len(rest) < need:
            short = "TP-UDL says %d septets but only %d octets follow" % (udl, len(rest))
    else:
        need = udl
        if len(rest) < need:
            short = "TP-UDL says %d octets but only %d follow" % (udl, len(rest))
    ud = rest[:need]
    udh = None
    hdr = 0
    if udhi:
        if not ud:
            raise PduError("TP-UDHI is set but the user data is empty")
        hdr = ud[0] + 1
        if hdr > len(ud):
            raise PduError("TP-UDHL says %d octets but the user data holds only %d" % (hdr - 1, len(ud) - 1))
        udh = bytes(ud[:hdr])
    if enc == "gsm7":
        fill = _fill_bits(hdr) if hdr else 0
        hdr_septets = (hdr * 8 + fill) // 7
        if hdr_septets > udl:
            raise PduError("TP-UDHL (%d octets) does not fit in TP-UDL (%d septets)" % (hdr - 1, udl))
        n = udl - hdr_septets
        if short is not None:
            n = max(0, min(n, ((len(ud) - hdr) * 8 - fill) // 7))
        septets = gsm7.unpack(ud[hdr:], n, fill)
        if short is not None and septets and septets[-1] == gsm7.ESC:
            septets = septets[:-1]  # the character it escapes was cut off
        data = bytes(septets)
        text = gsm7.decode(septets)
    else:
        data = bytes(ud[hdr:])
        if short is not None and enc == "ucs2":
            data = _whole_utf16(data)
        if enc == "ucs2":
            text = utf16be_decode(data)
        else:
            text = "".join([chr(b) for b in data])
    return enc, text, data, udh, (_parse_concat(udh) if udh else None), short


def _whole_utf16(data):
    """UTF-16BE cut anywhere -> its whole code units, less a high surrogate whose pair
    was cut off (it would show as U+FFFD, a character the sender never wrote)."""
    data = data[: len(data) & ~1]
    if data and 0xD8 <= data[-2] <= 0xDB:
        data = data[:-2]
    return data


def _chunks(text):
    """-> (encoding, [chunk, ...]) with no limit on the number of chunks (see split)."""
    if not isinstance(text, str):
        raise PduError("text must be a str, got %s" % type(text).__name__)
    if gsm7.fits(text):
        enc, cost, single, part = "gsm7", gsm7.char_septets, GSM7_SINGLE, GSM7_PART
    else:
        enc, cost, single, part = "ucs2", _utf16_units, UCS2_SINGLE, UCS2_PART
    total = 0
    for ch in text:
        total += cost(ch)
    if total <= single:
        return enc, [text]
    chunks = []
    cur = []
    used = 0
    for ch in text:
        c = cost(ch)
        if used + c > part:
            chunks.append("".join(cur))
            cur = []
            used = 0
        cur.append(ch)
        used += c
    chunks.append("".join(cur))
    return enc, chunks


def counting_rules():
    """What the console's reply box counts with (web/assets/sms.js): the alphabet by
    septet cost and the capacities, so the page and this module split alike."""
    one, two = gsm7.by_cost()
    return {"gsm7_one": one, "gsm7_two": two, "gsm7_single": GSM7_SINGLE,
            "gsm7_part": GSM7_PART, "ucs2_single": UCS2_SINGLE, "ucs2_part": UCS2_PART}


def part_count(text):
    """How many SMS parts `text` takes, however many that is (what an agent is told
    when a reply is too long; split refuses more than a concatenation can number)."""
    return len(_chunks(text)[1])


def split(text):
    """-> (encoding, [chunk, ...]): GSM 7-bit when every character fits, else UCS2.

    One chunk when the text fits a single message (160 septets / 70 UTF-16 units),
    otherwise chunks of at most 153 septets / 67 units, cut only between characters so an
    escape pair or a surrogate pair is never split.
    """
    enc, chunks = _chunks(text)
    if len(chunks) > MAX_PARTS:
        raise PduError("text needs %d parts, at most %d can be concatenated" % (len(chunks), MAX_PARTS))
    return enc, chunks


def _user_data(chunk, enc, udh):
    """-> (TP-UDL, TP-UD octets) for one part; `udh` includes its UDHL octet (or is b'')."""
    if enc == "gsm7":
        septets = gsm7.encode(chunk)
        fill = _fill_bits(len(udh)) if udh else 0
        ud = bytes(udh) + bytes(gsm7.pack(septets, fill))
        return (len(udh) * 8 + fill) // 7 + len(septets), ud
    ud = bytes(udh) + bytes(utf16be_encode(chunk))
    return len(ud), ud


def _parts(text, concat_ref):
    """Split + encode: -> list of (udhi, dcs, TP-UDL, TP-UD)."""
    enc, chunks = split(text)
    total = len(chunks)
    out = []
    seq = 0
    for chunk in chunks:
        seq += 1
        udh = b"" if total == 1 else bytes([5, _IEI_CONCAT8, 3, concat_ref & 0xFF, total, seq])
        udl, ud = _user_data(chunk, enc, udh)
        out.append((bool(udh), _DCS_FOR[enc], udl, ud))
    return out


# --------------------------------------------------------------------------- messages


class _Message:
    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, " ".join("%s=%r" % (k, getattr(self, k)) for k in self._fields))


class Deliver(_Message):
    """A decoded SMS-DELIVER.

    smsc: '+digits' / 'digits' / None; sender: '+digits', 'digits' or alphanumeric text;
    sender_type: TON/NPI octet; pid, dcs: octets; msg_class: 0..3 or None;
    scts: (year, month, day, hour, minute, second, tz_quarter_hours);
    encoding: 'gsm7' | '8bit' | 'ucs2'; text: str (8-bit data as one char per octet);
    data: the user data after the UDH (unpacked septets for gsm7, raw octets otherwise);
    udh: the user data header with its UDHL octet, or None; concat: (ref, total, seq) or None;
    status_report_indication, more_messages, reply_path: bools from the first octet;
    truncated: True when TP-UDL claims more user data than the PDU holds (text and data
    are then what is there: every whole septet, every whole UTF-16 unit).
    """

    _fields = ("smsc", "sender", "sender_type", "pid", "dcs", "scts", "encoding", "text", "udh", "concat")

    def scts_iso(self):
        return scts_iso(self.scts)


class Submit(_Message):
    """A decoded SMS-SUBMIT.

    number: '+digits' / 'digits' (or alphanumeric text); number_type: TON/NPI octet;
    ref: TP-MR; validity: minutes (relative VPF), a time stamp tuple (absolute VPF),
    the 7 raw octets (enhanced VPF) or None; validity_format: 0..3 (TP-VPF);
    status_report_requested, reject_duplicates, reply_path: bools; the rest as `Deliver`.
    """

    _fields = ("smsc", "number", "number_type", "ref", "validity", "encoding", "text", "udh", "concat")


def _decode(hex_or_bytes, with_smsc, body):
    try:
        r = _Reader(_to_bytes(hex_or_bytes))
        smsc = _read_smsc(r) if with_smsc else None
        msg = body(r)
        msg.smsc = smsc
        return msg
    except PduError:
        raise
    except Exception as e:  # a gap in the explicit checks must still surface as PduError
        raise PduError("malformed PDU (%s: %s)" % (type(e).__name__, e))


def _first_octet(r, mti, name):
    fo = r.octet("first octet")
    if fo & 0x03 != mti:
        raise PduError("not an %s: TP-MTI is %d" % (name, fo & 0x03))
    return fo


def _deliver_body(r):
    fo = _first_octet(r, MTI_DELIVER, "SMS-DELIVER")
    m = Deliver()
    m.more_messages = not (fo & _FO_MMS)
    m.status_report_indication = bool(fo & _FO_SRI)
    m.reply_path = bool(fo & _FO_RP)
    m.sender, m.sender_type = _read_address(r, "TP-OA")
    m.pid = r.octet("TP-PID")
    m.dcs = r.octet("TP-DCS")
    m.msg_class = dcs_class(m.dcs)
    m.scts = _decode_scts(r.take(7, "TP-SCTS"))
    _user_data_into(m, r, fo)
    return m


def _user_data_into(m, r, fo):
    m.encoding, m.text, m.data, m.udh, m.concat, short = _read_ud(r, m.dcs, fo & _FO_UDHI)
    m.truncated = short is not None


def _submit_body(r):
    fo = _first_octet(r, MTI_SUBMIT, "SMS-SUBMIT")
    m = Submit()
    m.reject_duplicates = bool(fo & _FO_RD)
    m.status_report_requested = bool(fo & _FO_SRR)
    m.reply_path = bool(fo & _FO_RP)
    m.ref = r.octet("TP-MR")
    m.number, m.number_type = _read_address(r, "TP-DA")
    m.pid = r.octet("TP-PID")
    m.dcs = r.octet("TP-DCS")
    m.msg_class = dcs_class(m.dcs)
    vpf = (fo >> 3) & 0x03
    m.validity_format = vpf
    if vpf == _VPF_RELATIVE:
        m.validity = vp_minutes(r.octet("TP-VP"))
    elif vpf == _VPF_ABSOLUTE:
        m.validity = _decode_scts(r.take(7, "TP-VP (absolute)"))
    elif vpf == _VPF_ENHANCED:
        m.validity = bytes(r.take(7, "TP-VP (enhanced)"))
    else:
        m.validity = None
    _user_data_into(m, r, fo)
    return m


def message_type(hex_or_bytes, with_smsc=True):
    """TP-MTI of a PDU: MTI_DELIVER, MTI_SUBMIT, MTI_STATUS_REPORT (or 3, reserved), read
    from its first octet so a stored PDU can be decoded as what it is. Raises only PduError."""
    r = _Reader(_to_bytes(hex_or_bytes))
    if with_smsc:
        r.take(r.octet("SMSC length"), "SMSC address")
    return r.octet("first octet") & 0x03


def decode_deliver(hex_or_bytes, with_smsc=True):
    """Decode an SMS-DELIVER (as AT+CMGR/+CMGL/+CMT give it). Raises only PduError."""
    return _decode(hex_or_bytes, with_smsc, _deliver_body)


def decode_submit(hex_or_bytes, with_smsc=True):
    """Decode an SMS-SUBMIT (as written with AT+CMGS). Raises only PduError."""
    return _decode(hex_or_bytes, with_smsc, _submit_body)


def encode_submit(number, text, ref=0, validity_minutes=None, request_status_report=False, smsc=None,
                  concat_ref=None):
    """Text to `number` -> [(hex_pdu, tpdu_length), ...], one entry per part.

    tpdu_length is the octet count AT+CMGS=<n> wants (the SMSC prefix excluded).
    `ref` is TP-MR (part i of a long text gets (ref + i) & 0xFF so parts never look like
    duplicates to the SMSC); `concat_ref` (default: ref) is the 8-bit concatenation
    reference shared by all parts, so callers should vary it between long messages.
    validity_minutes selects the relative validity format, rounded up to the next
    representable period (5 min .. 63 weeks).
    """
    da = _address_field(number, "number")
    sc = _smsc_field(smsc)
    fo = MTI_SUBMIT
    vp = b""
    if validity_minutes is not None:
        fo |= _VPF_RELATIVE << 3
        vp = bytes([vp_octet(validity_minutes)])
    if request_status_report:
        fo |= _FO_SRR
    if not isinstance(ref, int) or not 0 <= ref <= 255:
        raise PduError("ref (TP-MR) must be 0..255, got %r" % (ref,))
    if concat_ref is None:
        concat_ref = ref
    out = []
    i = 0
    for udhi, dcs, udl, ud in _parts(text, concat_ref):
        tpdu = (bytes([fo | (_FO_UDHI if udhi else 0), (ref + i) & 0xFF]) + da
                + bytes([0x00, dcs]) + vp + bytes([udl]) + ud)
        out.append((_hex(sc + tpdu), len(tpdu)))
        i += 1
    return out


def encode_deliver(sender, text, scts_tuple, smsc=None, concat_ref=0):
    """Inbound message as an SMSC would deliver it -> [hex_pdu, ...], one per part.

    `sender` is '+digits' (international), 'digits' (unknown), or any other GSM 7-bit text
    of up to 11 septets, which is sent as an alphanumeric address (TON 101).
    """
    oa = _address_field(sender, "sender", True)
    sc = _smsc_field(smsc)
    ts = bytes(_encode_scts(scts_tuple))
    out = []
    for udhi, dcs, udl, ud in _parts(text, concat_ref):
        tpdu = (bytes([MTI_DELIVER | _FO_MMS | (_FO_UDHI if udhi else 0)]) + oa
                + bytes([0x00, dcs]) + ts + bytes([udl]) + ud)
        out.append(_hex(sc + tpdu))
    return out


def reassemble(messages):
    """Join decoded parts (Deliver/Submit objects of one concatenated message) in seq order."""
    parts = []
    for m in messages:
        parts.append(((m.concat[2] if m.concat else 0), m.text))
    parts.sort(key=lambda p: p[0])
    return "".join([p[1] for p in parts])


# --------------------------------------------------------------------------- status reports

# TP-ST (23.040 9.2.3.15). Bits 6-5 give the group; within each group of 32 values, the
# upper half (0x10-0x1F) is service-centre specific and the undefined lower values are
# reserved.
_ST_GROUP_KIND = ("delivered", "pending", "failed", "failed")
_ST_GROUP_NOTE = ("", ", SC still trying", "", ", SC gave up")
_ST_TEXT = {
    0x00: "received by the recipient",
    0x01: "forwarded to the recipient, delivery not confirmed",
    0x02: "replaced by the service centre",
    0x20: "congestion",
    0x21: "recipient busy",
    0x22: "no response from the recipient",
    0x23: "service rejected",
    0x24: "quality of service not available",
    0x25: "error in the recipient",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by the recipient",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "validity period expired",
    0x47: "deleted by the sender",
    0x48: "deleted by service centre administration",
    0x49: "message does not exist in the service centre",
}
_ST_SERVICE_REJECTED_FINAL = const(0x63)


def _st_defined(st):
    # Group 3 (temporary, SC gave up) reuses group 1's reasons.
    return _ST_TEXT.get(st - 0x40 if st >= 0x60 else st)


def _st_reserved(st):
    return st > 0x7F or ((st & 0x1F) < 0x10 and _st_defined(st) is None)


def status_kind(st):
    """TP-ST octet -> 'delivered' | 'pending' (SC still trying) | 'failed'.

    Reserved values count as 'service rejected, SC gave up' (0x63), as 23.040 9.2.3.15
    asks of a receiving entity; SC-specific values take their group's meaning.
    """
    if _st_reserved(st):
        st = _ST_SERVICE_REJECTED_FINAL
    return _ST_GROUP_KIND[(st >> 5) & 0x03]


def status_text(st):
    """TP-ST octet -> a short English reason, e.g. 'recipient busy, SC still trying'."""
    if _st_reserved(st):
        return "reserved status 0x%02X, read as service rejected" % st
    note = _ST_GROUP_NOTE[(st >> 5) & 0x03]
    text = _st_defined(st)
    if text is None:
        return "service-centre specific status 0x%02X (%s%s)" % (st, status_kind(st), note)
    return text + note


class StatusReport(_Message):
    """A decoded SMS-STATUS-REPORT (23.040 9.2.2.3), as +CDS or AT+CMGR on "SR" give it.

    message_ref: TP-MR of the SMS-SUBMIT this reports on; recipient, recipient_type: TP-RA;
    scts: when the SC received the SUBMIT; discharge_time: when it was delivered or, for a
    pending/failed status, when the SC last tried or gave up (both time stamp tuples);
    status: the TP-ST octet; status_kind: 'delivered' | 'pending' | 'failed';
    status_text: the reason in words; more_messages, answers_command: first-octet bits.
    Optional fields after TP-PI: pid, dcs (None when absent), encoding, text, data, udh,
    concat (None when there is no user data). A trailer that contradicts its TP-PI does
    not lose the status: its fields stay None and `trailer_error` says what was wrong.
    """

    _fields = ("smsc", "message_ref", "recipient", "scts", "discharge_time", "status", "status_kind",
               "status_text")

    def scts_iso(self):
        return scts_iso(self.scts)

    def discharge_iso(self):
        return scts_iso(self.discharge_time)


def _status_trailer(r, fo, m):
    """TP-PI and the optional TP-PID, TP-DCS, TP-UDL/TP-UD it announces."""
    if not r.left():
        return
    pi = r.octet("TP-PI")
    ext = pi
    while ext & _PI_EXTENSION:
        ext = r.octet("TP-PI extension")
    if pi & _PI_PID:
        m.pid = r.octet("TP-PID")
    if pi & _PI_DCS:
        m.dcs = r.octet("TP-DCS")
    if pi & _PI_UDL:
        # An absent TP-DCS means the default alphabet (23.040 9.2.3.27).
        enc, text, data, udh, concat, short = _read_ud(r, m.dcs or 0, fo & _FO_UDHI)
        if short is not None:
            raise PduError(short)  # a text nobody reads: not worth keeping in part
        m.encoding, m.text, m.data, m.udh, m.concat = enc, text, data, udh, concat


def _status_report_body(r):
    fo = _first_octet(r, MTI_STATUS_REPORT, "SMS-STATUS-REPORT")
    m = StatusReport()
    m.more_messages = not (fo & _FO_MMS)
    m.answers_command = bool(fo & _FO_SRQ)
    m.message_ref = r.octet("TP-MR")
    m.recipient, m.recipient_type = _read_address(r, "TP-RA")
    m.scts = _decode_scts(r.take(7, "TP-SCTS"))
    m.discharge_time = _decode_scts(r.take(7, "TP-DT"))
    m.status = r.octet("TP-ST")
    m.status_kind = status_kind(m.status)
    m.status_text = status_text(m.status)
    m.pid = m.dcs = m.encoding = m.text = m.data = m.udh = m.concat = m.trailer_error = None
    try:
        _status_trailer(r, fo, m)
    except PduError as e:
        m.trailer_error = str(e)
    return m


def decode_status_report(hex_or_bytes, with_smsc=True):
    """Decode an SMS-STATUS-REPORT (+CDS, or AT+CMGR from "SR"). Raises only PduError."""
    return _decode(hex_or_bytes, with_smsc, _status_report_body)


def encode_status_report(message_ref, recipient, scts, discharge, status, smsc=None):
    """A status report as an SMSC sends it -> hex PDU, like `encode_deliver`'s.

    '+CDS: <length>' is the PDU's octet count less the SMSC prefix (1 + its first octet).
    Carries no TP-PI (no optional fields), as the published reports do.
    """
    for name, v in (("message_ref", message_ref), ("status", status)):
        if not isinstance(v, int) or not 0 <= v <= 255:
            raise PduError("%s must be 0..255, got %r" % (name, v))
    tpdu = (bytes([MTI_STATUS_REPORT | _FO_MMS, message_ref]) + _address_field(recipient, "recipient")
            + bytes(_encode_scts(scts)) + bytes(_encode_scts(discharge)) + bytes([status]))
    return _hex(_smsc_field(smsc) + tpdu)


def has_smsc(hex_or_bytes, tpdu_length):
    """Whether a PDU starts with the SMSC prefix, judged from the <length> the modem gave.

    27.005 <length> counts TPDU octets only, so a PDU one prefix longer has one. Some
    modems (and some vendors' notes) leave the prefix out of +CMT / +CDS; asking this
    first keeps the decoders from misreading such a PDU.
    """
    data = _to_bytes(hex_or_bytes)
    if len(data) == tpdu_length:
        return False
    if data and len(data) == tpdu_length + 1 + data[0]:
        return True
    raise PduError("PDU of %d octets fits neither <length> %d nor an SMSC prefix plus it" % (len(data), tpdu_length))
