"""Fuzzing the byte-facing parsers with random input: no crash, no hang, bounded memory.

CPython only (hypothesis). Each decoder may only raise its documented error; the AT
engine may raise nothing at all and must keep its line buffer bounded.
"""

import binascii

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchline.proto import at, at_errors, at_events, pdu, sans_io
from branchline.proto.pdu import PduError

FAST = settings(max_examples=400, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

DECODERS = (pdu.decode_deliver, pdu.decode_submit, pdu.decode_status_report)

# Published PDUs of each type, mutated below so the fuzzer gets past the first octets.
SEEDS = [
    "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
    "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
    "07919731899699F3440B919781455534F20008811151906461215B0608040A32030304380442044C0020043F",
    "07914306073011F006270B913426565711F7012081111345400120811174054043",
    "06550A912143658709122022118314801220221183148000" + "07000002E834",
]


def _check_decoded(m):
    assert m.text is None or isinstance(m.text, str)
    if isinstance(m, pdu.StatusReport):
        assert m.status_kind in ("delivered", "pending", "failed") and isinstance(m.status_text, str)


def _decode_all(data, with_smsc):
    for decode in DECODERS:
        try:
            m = decode(data, with_smsc=with_smsc)
        except PduError:
            continue
        _check_decoded(m)


@FAST
@given(st.binary(max_size=300), st.booleans())
def test_decoders_on_random_bytes(data, with_smsc):
    _decode_all(data, with_smsc)
    try:
        assert isinstance(pdu.has_smsc(data, len(data) - 1), bool)
    except PduError:
        pass


@FAST
@given(st.text(alphabet="0123456789ABCDEFabcdef \r\n\x00G\u4f60", max_size=400), st.booleans())
def test_decoders_on_random_hex_text(text, with_smsc):
    _decode_all(text, with_smsc)


@FAST
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       st.integers(0, 200), st.booleans())
def test_decoders_on_mutated_published_pdus(seed, mutations, cut, with_smsc):
    raw = bytearray(binascii.unhexlify(seed))
    for pos, val in mutations:
        raw[pos % len(raw)] = val
    _decode_all(bytes(raw[:cut]) if cut < len(raw) else bytes(raw), with_smsc)


# ----------------------------------------------------------------- AT engine

AT_WORDS = [b"\r", b"\n", b"\r\n", b"OK", b"ERROR", b"> ", b">", b"+CMTI: \"SM\",3", b"+CMT: ,24",
            b"+CDS: 24", b"+CMGR: 0,,24", b"+CMGL: 1,0,,24", b"+CMS ERROR: 500", b"+CME ERROR: x",
            b"RING", b"AT+CMGS=23", b"\x1a", b"\x1b", b"\xff\xfe", b"0791"]
chunks = st.lists(st.one_of(st.binary(max_size=200), st.sampled_from(AT_WORDS),
                            st.integers(0, 3000).map(lambda n: b"A" * n)), max_size=25)
commands = st.sampled_from([None, at.Command("AT+CSQ"), at.Command("AT+CMGR=1"), at.Command("ATI"),
                            at.Command("AT+CMGS=23", payload="0011000B91", timeout_ms=50)])


@FAST
@given(commands, chunks, st.lists(st.integers(0, 100), max_size=25))
def test_at_engine_never_raises_and_stays_bounded(command, data, gaps):
    engine = at.ATEngine()
    now = 0
    if command is not None:
        engine.send(at.Command(command.text, command.payload, command.timeout_ms), now)
    for i, chunk in enumerate(data):
        now += gaps[i] if i < len(gaps) else 1
        engine.receive_data(chunk, now)
        engine.tick(now)
        for _ in range(10000):  # a hang would show as running out of this
            ev = engine.next_event()
            if ev == sans_io.NEED_DATA:
                break
            assert isinstance(ev, (at_events.Response, at_events.Urc, at_events.Noise))
            if isinstance(ev, at_events.Response) and ev.code is not None:
                assert at_errors.describe("CMS", ev.code)
        else:
            raise AssertionError("next_event never said NEED_DATA")
        assert len(engine._rx) <= at.MAX_LINE + len(chunk)
        engine.data_to_send()


@FAST
@given(st.text(max_size=80))
def test_error_line_parser(line):
    parsed = at_errors.parse(line)
    if parsed is not None:
        kind, code = parsed
        assert at_errors.describe(kind, code)
        assert at_errors.cms_kind(code) in (at_errors.TEMPORARY, at_errors.MODEM, at_errors.PERMANENT)
