"""Property tests for the SMS PDU codec (CPython only: hypothesis)."""

import binascii

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchline.core.concat import GAP_MARKER, ConcatError, Reassembler
from branchline.proto import gsm7, pdu
from branchline.proto.pdu import PduError

GSM_CHARS = gsm7.alphabet()
CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
CYRILLIC = st.characters(min_codepoint=0x0400, max_codepoint=0x04FF)
ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
ANY_BUT_SURROGATES = st.characters(blacklist_categories=("Cs",))

texts = st.one_of(
    st.text(alphabet=GSM_CHARS, max_size=500),
    st.text(alphabet=st.one_of(st.sampled_from(GSM_CHARS), CHINESE), max_size=300),
    st.text(alphabet=st.one_of(st.sampled_from(" .,!?0123456789"), CYRILLIC), max_size=300),
    st.text(alphabet=st.one_of(st.sampled_from(" .,0123456789"), ARABIC), max_size=300),
    st.text(alphabet=st.one_of(st.sampled_from("ab "), EMOJI, CHINESE), max_size=200),
    st.text(alphabet=ANY_BUT_SURROGATES, max_size=200),
)

numbers = st.builds(
    lambda plus, digits: ("+" if plus else "") + digits,
    st.booleans(),
    st.text(alphabet="0123456789", min_size=1, max_size=20),
)
alnum_senders = st.text(alphabet=GSM_CHARS, min_size=1, max_size=11).filter(
    lambda s: gsm7.septet_length(s) <= 11 and not pdu._is_number(s)
)
scts = st.tuples(
    st.integers(2000, 2069),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(-79, 79),
)


def _expected(text):
    # 0x09 decodes as capital C-cedilla whichever cedilla was sent
    return text.replace("\u00e7", "\u00c7") if gsm7.fits(text) else text


def _check_parts(decoded, n_parts):
    for i, d in enumerate(decoded):
        assert len(d.udh or b"") + len(d.data if d.encoding != "gsm7" else b"") <= 140
        if n_parts == 1:
            assert d.concat is None and d.udh is None
        else:
            assert d.concat[1:] == (n_parts, i + 1)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(numbers, texts, st.integers(0, 255), st.one_of(st.none(), st.integers(0, 700000)), st.booleans())
def test_submit_roundtrip(number, text, ref, validity, srr):
    parts = pdu.encode_submit(number, text, ref=ref, validity_minutes=validity, request_status_report=srr)
    decoded = []
    for h, n in parts:
        raw = binascii.unhexlify(h)
        assert raw[0] == 0 and n == len(raw) - 1
        assert n <= 12 + 2 + 2 + 1 + 1 + 140  # FO, MR, DA<=12, PID, DCS, VP, UDL, UD
        d = pdu.decode_submit(h)
        assert d.number == number
        assert d.status_report_requested == srr
        if validity is None:
            assert d.validity is None
        else:
            assert d.validity >= validity or d.validity == 63 * 10080
        decoded.append(d)
    _check_parts(decoded, len(parts))
    assert pdu.reassemble(decoded) == _expected(text)
    enc = "gsm7" if gsm7.fits(text) else "ucs2"
    assert all(d.encoding == enc for d in decoded)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(numbers, alnum_senders), texts, scts, st.integers(0, 255))
def test_deliver_roundtrip(sender, text, ts, ref):
    hs = pdu.encode_deliver(sender, text, ts, concat_ref=ref)
    decoded = [pdu.decode_deliver(h) for h in hs]
    for d in decoded:
        assert d.sender == sender
        assert d.scts == ts
        if len(hs) > 1:
            assert d.concat[0] == ref
    _check_parts(decoded, len(hs))
    assert pdu.reassemble(decoded[::-1]) == _expected(text)


@given(texts)
def test_user_data_fits_140_octets(text):
    for h, n in pdu.encode_submit("+1", text):
        d = pdu.decode_submit(h)
        raw = binascii.unhexlify(h)
        udh = d.udh or b""
        if d.encoding == "gsm7":
            fill = (7 - len(udh) * 8 % 7) % 7 if udh else 0
            ud_len = len(udh) + gsm7.packed_length(len(gsm7.encode(d.text)), fill)
        else:
            ud_len = len(udh) + len(d.data)
        header = 1 + 1 + 1 + 3 + 1 + 1 + 1  # SMSC "00", FO, MR, DA "01 81 F1", PID, DCS, UDL
        assert ud_len == len(raw) - header
        assert ud_len <= 140


@settings(max_examples=500)
@given(st.binary(max_size=200), st.booleans())
def test_fuzz_bytes_only_pdu_error(data, with_smsc):
    for f in (pdu.decode_deliver, pdu.decode_submit):
        try:
            f(data, with_smsc=with_smsc)
        except PduError:
            pass


@settings(max_examples=500)
@given(st.text(alphabet="0123456789ABCDEFabcdefXz \r\n", max_size=300))
def test_fuzz_hex_only_pdu_error(s):
    try:
        pdu.decode_deliver(s)
    except PduError:
        pass


@settings(max_examples=500)
@given(
    st.sampled_from([
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        "0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B",
        "00440B919471532406F7000062116280841100190A22080B912143658709F180B2CBE17919242FC3D979",
    ]),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
    st.integers(0, 200),
)
def test_fuzz_mutated_valid_pdus_only_pdu_error(seed, mutations, cut):
    raw = bytearray(binascii.unhexlify(seed))
    for pos, val in mutations:
        raw[pos % len(raw)] = val
    raw = bytes(raw[: max(cut, 0)]) if cut < len(raw) else bytes(raw)
    for f in (pdu.decode_deliver, pdu.decode_submit):
        try:
            d = f(raw)
        except PduError:
            continue
        assert isinstance(d.text, str)


@given(st.binary(max_size=60), st.integers(0, 6))
def test_pack_unpack_roundtrip(data, fill):
    septets = bytearray(b & 0x7F for b in data)
    assert gsm7.unpack(gsm7.pack(septets, fill), len(septets), fill) == septets


@given(st.binary(max_size=100))
def test_gsm7_decode_never_raises(data):
    assert isinstance(gsm7.decode(data), str)


@given(st.text(alphabet=ANY_BUT_SURROGATES, max_size=100))
def test_utf16_roundtrip(text):
    b = pdu.utf16be_encode(text)
    assert bytes(b) == text.encode("utf-16-be")
    assert pdu.utf16be_decode(b) == text


# ----------------------------------------------------------------- concatenation end to end

EXTENSION_HEAVY = st.text(alphabet="{}[]~^|\\\u20ac\x0cab", min_size=150, max_size=700)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, EXTENSION_HEAVY), st.integers(0, 255), st.randoms(use_true_random=False),
       st.lists(st.integers(0, 50), max_size=6))
def test_split_shuffle_duplicate_reassemble(text, ref, rnd, dup_picks):
    hs = pdu.encode_deliver("+4915112345678", text, (2026, 1, 2, 3, 4, 5, 4), concat_ref=ref)
    parts = [pdu.decode_deliver(h) for h in hs]
    arrivals = parts + [parts[i % len(parts)] for i in dup_picks]
    rnd.shuffle(arrivals)
    r = Reassembler(60000)
    out = []
    for i, d in enumerate(arrivals):
        ref_, total, seq = d.concat if d.concat else (0, 1, 1)
        out += r.add(d.sender, ref_, total, seq, d.text, i)
    if len(parts) == 1:
        assert all(c.text == _expected(text) for c in out)  # a one-part text is never held
        return
    assert out[0].reason == "complete" and out[0].gaps == [] and out[0].text == _expected(text)
    # A copy that arrives after its message went out starts a new (marked) message, by
    # design; every copy is either counted as a duplicate or accounted for there.
    late = sum(c.parts for c in out[1:]) + sum(p["received"] for p in r.pending())
    assert r.duplicates + late == len(dup_picks)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["+1", "+2", "Bank"]), st.integers(0, 3), st.integers(2, 4),
                          st.integers(1, 4), st.sampled_from(["a", "b"]), st.integers(0, 3000),
                          st.booleans()), max_size=80),
       st.integers(1, 5))
def test_reassembler_never_loses_an_accepted_part(ops, max_messages):
    """Every part accepted (not a duplicate, not rejected) comes out in exactly one message."""
    r = Reassembler(2000, max_messages=max_messages)
    t = 0
    accepted = 0
    delivered = 0
    for sender, ref, total, seq, text, dt, tick in ops:
        t += dt
        if tick:
            done = r.expire(t)
        else:
            dups = r.duplicates
            try:
                done = r.add(sender, ref, total, seq, text, t)
            except ConcatError:
                assert seq > total
                continue
            accepted += r.duplicates == dups
        for c in done:
            assert c.parts + len(c.gaps) == c.total and c.text.count(GAP_MARKER) <= len(c.gaps)
            delivered += c.parts
        assert len(r.pending()) <= max_messages
    delivered += sum(c.parts for c in r.expire(t + 2000))
    assert delivered == accepted and r.pending() == []


# ----------------------------------------------------------------- status reports

@settings(max_examples=200)
@given(st.integers(0, 255), numbers, scts, scts, st.integers(0, 255), st.one_of(st.none(), numbers))
def test_status_report_roundtrip(mr, recipient, submitted, discharged, status, smsc):
    h = pdu.encode_status_report(mr, recipient, submitted, discharged, status, smsc=smsc)
    r = pdu.decode_status_report(h)
    assert (r.message_ref, r.recipient, r.scts, r.discharge_time, r.status) == (
        mr, recipient, submitted, discharged, status)
    assert r.smsc == (smsc or None)
    assert r.status_kind == pdu.status_kind(status) in ("delivered", "pending", "failed")
    assert pdu.has_smsc(h, len(h) // 2 - 1 - binascii.unhexlify(h)[0])
