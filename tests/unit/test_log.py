"""Structured log lines: one per event, numbers masked unless debugging, parseable back."""

import io

from branchline.log import Log, parse_line


def emit(debug=False, **fields):
    out = io.StringIO()
    Log(out, debug=debug).info("sms_received", **fields)
    return out.getvalue()


def test_one_line_with_masked_number_and_round_trip():
    line = emit(**{"from": "+8613800138000", "text": 'say "hi"\nnow', "slot": 3})
    assert line.count("\n") == 1
    fields = parse_line(line.rstrip("\n"))
    assert fields["event"] == "sms_received" and fields["level"] == "info"
    assert fields["from"] == "+86138****8000"
    assert fields["text"] == 'say "hi"\nnow' and fields["slot"] == "3"


def test_debug_shows_the_number():
    assert "+8613800138000" in emit(debug=True, **{"from": "+8613800138000"})


def test_debug_lines_are_dropped_unless_enabled():
    out = io.StringIO()
    Log(out).debug("modem_noise", line="x")
    assert out.getvalue() == ""
