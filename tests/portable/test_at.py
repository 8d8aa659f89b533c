"""AT engine: command framing, echo, URCs in the middle of answers, errors, prompt, timeouts."""

from check import drain, raises

from branchline.proto import at, at_events


def test_command_is_written_with_cr_and_answered_ok():
    e = at.ATEngine()
    e.send(at.Command("AT+CSQ"), 0)
    assert e.data_to_send() == b"AT+CSQ\r"
    e.receive_data(b"\r\n+CSQ: 21,0\r\n\r\nOK\r\n", 10)
    (resp,) = drain(e)
    assert isinstance(resp, at_events.Response)
    assert resp.ok and resp.lines == ["+CSQ: 21,0"]


def test_commands_wait_their_turn():
    e = at.ATEngine()
    e.send(at.Command("AT"), 0)
    e.send(at.Command("ATE0"), 0)
    assert e.data_to_send() == b"AT\r"
    e.receive_data(b"\r\nOK\r\n", 1)
    assert e.data_to_send() == b"ATE0\r"
    e.receive_data(b"\r\nOK\r\n", 2)
    assert [r.command.text for r in drain(e)] == ["AT", "ATE0"]
    assert not e.busy


def test_echo_is_dropped():
    e = at.ATEngine()
    e.send(at.Command("ATE0"), 0)
    e.receive_data(b"ATE0\r\r\nOK\r\n", 1)
    (resp,) = drain(e)
    assert resp.ok and resp.lines == []


def test_urc_inside_an_answer_is_dispatched_not_swallowed():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGR=1"), 0)
    e.receive_data(b'\r\n+CMGR: 0,,23\r\n\r\n+CMTI: "SM",2\r\n0791ABCD\r\n\r\nOK\r\n', 1)
    evs = drain(e)
    assert isinstance(evs[0], at_events.Urc) and evs[0].name == "+CMTI" and evs[0].args == '"SM",2'
    assert isinstance(evs[1], at_events.Response)
    assert evs[1].lines == ["+CMGR: 0,,23", "0791ABCD"]


def test_cms_error_carries_its_code():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGS=20", payload="00"), 0)
    e.receive_data(b"\r\n+CMS ERROR: 500\r\n", 1)
    (resp,) = drain(e)
    assert not resp.ok and resp.code == 500 and resp.reason == "+CMS ERROR: 500"


def test_prompt_releases_the_payload_with_ctrl_z():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGS=7", payload="0011AA"), 0)
    assert e.data_to_send() == b"AT+CMGS=7\r"
    e.receive_data(b"\r\n> ", 1)
    assert e.data_to_send() == b"0011AA\x1a"
    e.receive_data(b"\r\n+CMGS: 12\r\n\r\nOK\r\n", 2)
    (resp,) = drain(e)
    assert resp.ok and resp.lines == [">", "+CMGS: 12"]


def test_timeout_ends_the_command_and_the_next_one_starts():
    e = at.ATEngine()
    e.send(at.Command("AT", timeout_ms=100), 0)
    e.send(at.Command("ATI"), 0)
    e.data_to_send()
    e.tick(99)
    assert drain(e) == []
    e.tick(100)
    (resp,) = drain(e)
    assert not resp.ok and resp.reason == "timeout"
    assert e.data_to_send() == b""  # late answers to the first one drain away first
    e.tick(100 + at.DRAIN_MS)
    assert e.data_to_send() == b"ATI\r"


def test_a_late_answer_cannot_pass_for_the_next_commands():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGS=7", payload="00", timeout_ms=50), 0)
    e.send(at.Command("AT+CMGR=3"), 0)
    e.data_to_send()
    e.tick(60)
    assert e.data_to_send() == b"\x1b"
    e.receive_data(b"\r\nOK\r\n", 70)  # the modem answers the ESC
    e.receive_data(b'\r\n+CMTI: "SM",4\r\n', 80)  # URCs still count while draining
    evs = drain(e)
    assert [type(ev).__name__ for ev in evs] == ["Response", "Noise", "Urc"]
    e.tick(70 + at.DRAIN_MS)  # quiet since the late OK at 70: a URC is no answer
    assert e.data_to_send() == b"AT+CMGR=3\r"
    e.receive_data(b"\r\n+CMGR: 0,,5\r\n0011\r\n\r\nOK\r\n", 400)
    (resp,) = drain(e)
    assert resp.command.text == "AT+CMGR=3" and resp.lines == ["+CMGR: 0,,5", "0011"]


def test_timeout_at_a_prompt_cancels_with_esc():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGS=7", payload="00", timeout_ms=50), 0)
    e.data_to_send()
    e.tick(60)
    assert e.data_to_send() == b"\x1b"


def test_garbage_bytes_become_noise_and_the_reader_survives():
    e = at.ATEngine()
    e.receive_data(b"\xff\xfe\x00garbage\r\n", 0)
    (noise,) = drain(e)
    assert isinstance(noise, at_events.Noise)
    e.receive_data(b"RING\r\n", 1)
    (ring,) = drain(e)
    assert isinstance(ring, at_events.Urc) and ring.name == "RING"


def test_overlong_line_is_dropped_not_buffered_forever():
    e = at.ATEngine()
    e.receive_data(b"A" * (at.MAX_LINE + 10), 0)
    (noise,) = drain(e)
    assert isinstance(noise, at_events.Noise) and "overlong" in noise.line
    e.receive_data(b"\r\nRING\r\n", 1)
    assert [ev.name for ev in drain(e)] == ["RING"]


def test_cmt_urc_takes_the_pdu_line_with_it():
    e = at.ATEngine()
    e.receive_data(b"\r\n+CMT: ,23\r\n07911326040000F0\r\n", 0)
    (urc,) = drain(e)
    assert urc.name == "+CMT" and urc.pdu == "07911326040000F0"


def test_commands_cannot_smuggle_control_characters():
    with raises(at.ATProtocolError):
        at.Command("AT+CMGS=1\rAT+CFUN=0")
    with raises(at.ATProtocolError):
        at.Command("AT+CMGS=7", payload="00\x1a")


def test_bytes_split_anywhere_give_the_same_events():
    stream = b'\r\n+CMGR: 0,,23\r\n0791ABCD\r\n\r\nOK\r\n'
    for cut in range(len(stream)):
        e = at.ATEngine()
        e.send(at.Command("AT+CMGR=1"), 0)
        e.receive_data(stream[:cut], 1)
        e.receive_data(stream[cut:], 2)
        (resp,) = drain(e)
        assert resp.lines == ["+CMGR: 0,,23", "0791ABCD"], cut


def test_no_carrier_is_a_caller_hanging_up_unless_we_dialled():
    e = at.ATEngine()
    e.send(at.Command("AT+CSQ"), 0)
    e.receive_data(b"\r\nNO CARRIER\r\n\r\n+CSQ: 20,0\r\n\r\nOK\r\n", 1)
    urc, resp = drain(e)
    assert urc.name == "NO CARRIER" and resp.ok and resp.lines == ["+CSQ: 20,0"]
    e.send(at.Command("ATD+447700900123;"), 2)
    e.receive_data(b"\r\nNO CARRIER\r\n", 3)
    (resp,) = drain(e)
    assert not resp.ok and resp.reason == "NO CARRIER"


def test_a_long_answer_that_keeps_coming_does_not_time_out():
    e = at.ATEngine()
    e.send(at.Command("AT+CMGL=4", timeout_ms=1000), 0)
    for t in range(500, 5000, 500):
        e.receive_data(b"+CMGL: 1,0,,5\r\n0011\r\n", t)
        e.tick(t)
    assert drain(e) == []
    e.tick(4500 + 999)
    assert drain(e) == []
    e.tick(4500 + 1000)  # a second of silence after the last line
    (resp,) = drain(e)
    assert resp.reason == "timeout" and len(resp.lines) == 18


def test_draining_lasts_until_the_line_is_quiet():
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    for t in range(100, 2000, 100):  # a killed predecessor's listing still coming
        e.receive_data(b"+CMGL: 1,1,,5\r\n0011\r\nOK\r\n", t)
        e.tick(t)
        assert e.data_to_send() in (b"", b"\x1b")
    e.tick(1900 + at.DRAIN_MS - 1)
    assert e.data_to_send() == b""
    e.tick(1900 + at.DRAIN_MS)
    assert e.data_to_send() == b"AT\r"


def test_draining_ends_even_if_the_line_never_goes_quiet():
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    t = 0
    while t < at.DRAIN_MAX_MS:
        t += 100
        e.receive_data(b"noise\r\n", t)
    assert e.data_to_send().endswith(b"AT\r")


def test_a_stream_of_urcs_does_not_hold_the_drain_back():
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    e.data_to_send()
    urcs = 0
    written = b""
    t = 0
    while t < 3 * at.DRAIN_MS:  # a +CMTI every 50 ms, as under a burst of deliveries
        t += 50
        e.receive_data(b'\r\n+CMTI: "SM",%d\r\n' % (urcs + 1), t)
        urcs += 1
        written += e.data_to_send()
        if t < at.DRAIN_MS:
            assert written == b"", t
    assert written == b"AT\r"
    assert [ev.args for ev in drain(e)] == ['"SM",%d' % (i + 1) for i in range(urcs)]


def test_urcs_that_arrive_in_pieces_do_not_hold_the_drain_back_either():
    # On a serial port a line often comes in two reads: the piece in between must not
    # count as a late answer each time, or a storm of +CMTI holds init back for a minute.
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    e.data_to_send()
    written = b""
    t = 0
    while t < 3 * at.DRAIN_MS:
        line = b'\r\n+CMTI: "SM",%d\r\n' % (t // 50 + 1)
        t += 48
        e.receive_data(line[:8], t)
        t += 2
        e.receive_data(line[8:], t)
        written += e.data_to_send()
    assert written == b"AT\r"
    assert e.current is not None and e.current.text == "AT"


def test_a_piece_of_a_line_that_never_completes_holds_the_drain_only_a_while():
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    e.data_to_send()
    e.receive_data(b"\x00garbage without an end", 100)
    e.tick(at.DRAIN_MS)
    assert e.data_to_send() == b""  # it may still be a late answer
    e.tick(100 + at.DRAIN_MS)
    assert e.data_to_send() == b"AT\r"


def test_answers_and_lines_still_arriving_hold_the_drain_among_urcs():
    e = at.ATEngine()
    e.recover_prompt(0)
    e.send(at.Command("AT"), 0)
    e.data_to_send()
    e.receive_data(b"\r\n+CMGL: 1,1,,5\r\n", 100)  # a late answer: quiet from 100 on
    e.receive_data(b'\r\n+CMTI: "SM",1\r\n', 200)
    e.receive_data(b'\r\n+CMTI: "SM",2', 390)  # a line still arriving could be an answer
    e.tick(100 + at.DRAIN_MS)
    assert e.data_to_send() == b""
    e.receive_data(b"\r\n", 420)  # it was a URC: the quiet time is over already
    assert e.data_to_send() == b"AT\r"
    assert [type(ev).__name__ for ev in drain(e)] == ["Noise", "Urc", "Urc"]


def test_a_babbling_modem_fills_no_more_than_max_noise_events_and_urcs_still_pass():
    e = at.ATEngine()
    flood = b"".join(b"junk %d\r\n" % i for i in range(1000))
    e.receive_data(flood + b'+CMTI: "SM",3\r\n', 0)
    events = drain(e)
    noise = [ev for ev in events if isinstance(ev, at_events.Noise)]
    urcs = [ev for ev in events if isinstance(ev, at_events.Urc)]
    assert [u.name for u in urcs] == ["+CMTI"]  # what matters is never dropped
    assert len(noise) == at.MAX_NOISE + 1
    assert noise[-1].line == "(%d more lines of noise dropped)" % (1000 - at.MAX_NOISE)
    e.receive_data(b"stray\r\n", 1)
    assert [ev.line for ev in drain(e)] == ["stray"]  # counted once, then as before
