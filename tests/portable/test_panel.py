"""Panel protocol: framing, checksum, every message type, and recovery from bad frames."""

from check import raises

from branchline.proto import panel


def test_led_frame_matches_the_documented_example():
    # docs/panel-protocol.md works this one out by hand: XOR of "LED,1,GREEN" is 0x27
    assert panel.encode_led(1, "GREEN") == b"$LED,1,GREEN*27\r\n"


def test_button_round_trip():
    r = panel.PanelReader()
    r.receive_data(panel.encode_button(12, "AVAIL", True) + panel.encode_button(12, "AVAIL", False))
    events, errors = r.read_all()
    assert errors == []
    assert [(e.desk, e.button, e.pressed) for e in events] == [(12, "AVAIL", True), (12, "AVAIL", False)]


def test_hello_and_led_decode():
    r = panel.PanelReader()
    r.receive_data(panel.encode_hello(8, "fw-2.1") + panel.encode_led(3, "AMBER_BLINK"))
    (hello, led), errors = r.read_all()
    assert (hello.desks, hello.version) == (8, "fw-2.1")
    assert (led.desk, led.state) == (3, "AMBER_BLINK")


def test_bad_checksum_is_reported_and_the_next_frame_still_reads():
    good = panel.encode_button(2, "BREAK", True)
    bad = bytearray(good)
    bad[5] = ord("3")  # desk 2 -> 3, checksum no longer matches
    r = panel.PanelReader()
    r.receive_data(bytes(bad) + good)
    events, errors = r.read_all()
    assert len(errors) == 1 and "checksum" in errors[0]
    assert [(e.desk, e.button) for e in events] == [(2, "BREAK")]


def test_noise_between_frames_is_reported_once_and_skipped():
    r = panel.PanelReader()
    r.receive_data(b"\x00\xffzz\r\n" + panel.encode_button(1, "READY", True))
    events, errors = r.read_all()
    assert len(errors) == 1 and "outside a frame" in errors[0]
    assert events[0].button == "READY"


def test_frames_split_across_reads():
    data = panel.encode_button(5, "NEXT", True)
    r = panel.PanelReader()
    got = []
    for i in range(len(data)):
        r.receive_data(data[i : i + 1])
        events, errors = r.read_all()
        assert errors == []
        got.extend(events)
    assert [(e.desk, e.button) for e in got] == [(5, "NEXT")]


def test_semantic_errors_name_the_field():
    cases = (
        (b"BTN,1,JUMP,1", "unknown button"),
        (b"BTN,0,AVAIL,1", "desk 0 outside"),
        (b"BTN,x,AVAIL,1", "desk 'x' is not a number"),
        (b"BTN,1,AVAIL,2", "not 0 or 1"),
        (b"BTN,1,AVAIL", "BTN needs 3 fields"),
        (b"FOO,1", "unknown message type"),
    )
    for body, expected in cases:
        r = panel.PanelReader()
        r.receive_data(b"$" + body + b"*" + (b"%02X" % panel.checksum(body)) + b"\r\n")
        events, errors = r.read_all()
        assert events == [] and len(errors) == 1 and expected in errors[0], (body, errors)


def test_overlong_frame_is_dropped():
    r = panel.PanelReader()
    r.receive_data(b"$" + b"A" * 200)
    events, errors = r.read_all()
    assert events == [] and "longer than" in errors[0]
    r.receive_data(b"\r\n" + panel.encode_led(1, "OFF"))
    events, errors = r.read_all()
    assert [(e.desk, e.state) for e in events] == [(1, "OFF")]


def test_encoders_refuse_what_the_panel_would_not_understand():
    with raises(panel.PanelProtocolError):
        panel.encode_led(1, "PURPLE")
    with raises(panel.PanelProtocolError):
        panel.encode_button(65, "AVAIL", True)
