"""The panels' bus: framing and checksum, every message, the gateway's polling
(proto/panel_bus.py) against the panel's own logic (proto/panel_unit.py): each press
counted once through lost answers and restarts, lost and returning panels, LEDs at
the first answer, the buzzer, and "no gateway" on the panel."""

from check import raises

from branchline.proto import panel
from branchline.proto.panel_bus import LOST_AFTER, POLL_TIMEOUT_MS, RETRY_MS, PanelBus
from branchline.proto.panel_events import Hello, PanelLost, PanelUp, Poll, Pressed, Status
from branchline.proto.panel_unit import NO_GATEWAY_MS, PanelUnit


def test_the_poll_frame_matches_the_documented_example():
    # docs/panel-protocol.md works this one out by hand.
    assert panel.encode_poll(1, "GREEN", 0, 0) == b"$POLL,1,GREEN,0,0*75\r\n"


def read(data):
    r = panel.PanelReader()
    r.receive_data(data)
    return r.read_all()


def test_every_message_round_trips():
    (poll, stat, idle, hello), errors = read(
        panel.encode_poll(12, "AMBER_BLINK", 400, None) + panel.encode_status(12, 7, "BREAK")
        + panel.encode_status(3, 0, None) + panel.encode_hello(5, "ref-1.0"))
    assert errors == []
    assert isinstance(poll, Poll) and (poll.desk, poll.led, poll.buzz_ms, poll.ack) == (
        12, "AMBER_BLINK", 400, None)
    assert isinstance(stat, Status) and (stat.desk, stat.seq, stat.button) == (12, 7, "BREAK")
    assert (idle.seq, idle.button) == (0, None)
    assert isinstance(hello, Hello) and (hello.desk, hello.firmware) == (5, "ref-1.0")


def test_bad_checksum_is_reported_and_the_next_frame_still_reads():
    good = panel.encode_status(2, 1, "BREAK")
    bad = bytearray(good)
    bad[6] = ord("3")  # desk 2 -> 3, the checksum no longer matches
    events, errors = read(bytes(bad) + good)
    assert len(errors) == 1 and "checksum" in errors[0]
    assert [(e.desk, e.button) for e in events] == [(2, "BREAK")]


def test_noise_between_frames_is_reported_once_and_skipped():
    events, errors = read(b"\x00\xffzz\r\n" + panel.encode_status(1, 1, "READY"))
    assert len(errors) == 1 and "outside a frame" in errors[0]
    assert events[0].button == "READY"


def test_frames_split_across_reads():
    data = panel.encode_status(5, 9, "NEXT")
    r = panel.PanelReader()
    got = []
    for i in range(len(data)):
        r.receive_data(data[i:i + 1])
        events, errors = r.read_all()
        assert errors == []
        got.extend(events)
    assert [(e.desk, e.seq, e.button) for e in got] == [(5, 9, "NEXT")]


def test_semantic_errors_name_the_field():
    cases = (
        (b"STAT,1,1,JUMP", "unknown button"),
        (b"STAT,0,1,AVAIL", "desk 0 outside"),
        (b"STAT,x,1,AVAIL", "desk 'x' is not a number"),
        (b"STAT,1,100,AVAIL", "press number 100 outside 1..99"),
        (b"STAT,1,3,-", "numbers it 0"),
        (b"STAT,1,AVAIL", "STAT needs 3 fields"),
        (b"POLL,1,PURPLE,0,0", "unknown LED state"),
        (b"POLL,1,GREEN,9000,0", "buzz 9000 outside"),
        (b"HELLO,1,a b,c", "HELLO needs 2 fields"),
        (b"BTN,1,AVAIL,1", "unknown message type"),
    )
    for body, expected in cases:
        events, errors = read(b"$" + body + b"*" + (b"%02X" % panel.checksum(body)) + b"\r\n")
        assert events == [] and len(errors) == 1 and expected in errors[0], (body, errors)


def test_overlong_frame_is_dropped():
    r = panel.PanelReader()
    r.receive_data(b"$" + b"A" * 200)
    events, errors = r.read_all()
    assert events == [] and "longer than" in errors[0]
    r.receive_data(b"\r\n" + panel.encode_status(1, 0, None))
    events, errors = r.read_all()
    assert [(e.desk, e.seq) for e in events] == [(1, 0)]


def test_the_bus_addresses_every_desk_the_router_can_have():
    from branchline.router.codes import MAX_AGENTS
    assert panel.MAX_DESK == MAX_AGENTS


def test_encoders_refuse_what_a_panel_would_not_understand():
    for call in (lambda: panel.encode_poll(1, "PURPLE", 0, 0),
                 lambda: panel.encode_poll(65, "OFF", 0, 0),
                 lambda: panel.encode_status(1, 0, "JUMP"),
                 lambda: panel.encode_hello(1, "has,comma")):
        with raises(panel.PanelProtocolError):
            call()


class Line:
    """A bus with a gateway and panels; `lose` drops the next answers of the panels."""

    def __init__(self, desks, present=None):
        self.bus = PanelBus(desks)
        self.units = {}
        for desk in (present if present is not None else desks):
            self.units[desk] = PanelUnit(desk, "ref-1.0")
        self.now = 0
        self.lose = 0
        self.events = []

    def step(self, ms=5):
        poll = self.bus.poll(self.now)
        if poll is not None:
            for unit in list(self.units.values()):
                answer = unit.receive_data(poll, self.now)
                if answer and self.lose:
                    self.lose -= 1
                elif answer:
                    self.bus.receive_data(answer, self.now + 1)
        found, errors = self.bus.read_all()
        assert errors == [], errors
        self.events.extend(found)
        self.now += ms

    def run(self, ms):
        end = self.now + ms
        while self.now < end:
            self.step()

    def presses(self):
        return [(e.desk, e.button) for e in self.events if isinstance(e, Pressed)]


def test_a_press_counts_once_though_its_answer_is_lost():
    line = Line([1, 2])
    line.run(200)
    assert [(e.desk, e.firmware) for e in line.events if isinstance(e, PanelUp)] == [
        (1, "ref-1.0"), (2, "ref-1.0")]
    line.units[2].press("AVAIL")
    line.lose = 1  # the answer carrying the press is lost: the panel sends it again
    line.run(200)
    line.units[2].press("BREAK")
    line.units[2].press("AVAIL")
    line.run(200)
    assert line.presses() == [(2, "AVAIL"), (2, "BREAK"), (2, "AVAIL")]
    assert [e.press for e in line.events if isinstance(e, Pressed)] == [1, 2, 3]


def test_after_a_gateway_restart_the_journaled_press_is_not_counted_again():
    line = Line([1])
    line.run(100)
    line.units[1].press("AVAIL")
    line.lose = 1
    while line.lose:  # the answer carrying the press is lost, as if the gateway had
        line.step()  # taken it and restarted before acknowledging it
    line.bus = PanelBus([1])
    line.bus.resume(1, 1)  # what the journal says it counted
    line.events = []
    line.run(200)
    assert line.presses() == []
    line.units[1].press("BREAK")
    line.run(100)
    assert line.presses() == [(1, "BREAK")]


def test_a_restarted_panel_numbers_its_presses_afresh():
    line = Line([1])
    line.run(100)
    for _ in range(3):
        line.units[1].press("AVAIL")
    line.run(200)
    line.units[1] = PanelUnit(1, "ref-1.1")  # power cycled
    line.units[1].press("BREAK")  # number 1 again: not mistaken for an old one
    line.run(200)
    assert line.presses() == [(1, "AVAIL")] * 3 + [(1, "BREAK")]
    assert line.events[-2].firmware == "ref-1.1"


def test_a_dead_panel_is_lost_once_and_gets_its_led_at_once_when_back():
    line = Line([1, 2])
    line.bus.set_led(1, "AMBER")
    line.run(200)
    unit = line.units.pop(1)  # unplugged
    line.run(LOST_AFTER * POLL_TIMEOUT_MS + 300)
    assert [e.desk for e in line.events if isinstance(e, PanelLost)] == [1]
    assert line.bus.state(1) == "lost" and line.bus.state(2) == "up"
    line.bus.set_led(1, "RED")
    line.units[1] = unit  # plugged in again
    line.run(RETRY_MS + 100)
    back = [e for e in line.events if isinstance(e, PanelUp) and e.desk == 1]
    assert back[-1].back and unit.led == "RED"
    assert line.bus.state(1) == "up"


def test_a_desk_without_a_panel_costs_one_poll_a_second():
    line = Line([1, 2], present=[1])
    polls = []
    real_poll = line.bus.poll

    def counting(now):
        data = real_poll(now)
        if data is not None:
            polls.append(data)
        return data

    line.bus.poll = counting
    line.run(3000)
    to_two = [p for p in polls if p.startswith(b"$POLL,2,")]
    assert 2 <= len(to_two) <= 4 and len(polls) > 50
    assert line.bus.state(2) == "never"
    assert not [e for e in line.events if isinstance(e, PanelLost)]


def test_the_panel_shows_blinks_the_buzzer_and_no_gateway():
    line = Line([1])
    line.bus.set_led(1, "GREEN_BLINK")
    line.bus.buzz(1, 400)
    line.run(100)
    unit = line.units[1]
    assert unit.outputs(1000) == ("GREEN", False) and unit.outputs(1500)[0] == "OFF"
    assert unit.outputs(line.now)[1] is True  # the buzzer sounds for 400 ms after the poll
    quiet = line.now
    assert unit.outputs(quiet + NO_GATEWAY_MS - 200)[0] in ("GREEN", "OFF")
    shown = [unit.outputs(quiet + NO_GATEWAY_MS + i * 500)[0] for i in range(2)]
    assert sorted(shown) == ["AMBER", "RED"]  # no poll for 3 s: "no gateway"
    fresh = PanelUnit(2, "ref-1.0")
    assert fresh.outputs(0)[0] in ("AMBER", "RED")  # never polled yet


def test_answers_to_another_desks_poll_are_refused_and_the_bus_goes_on():
    bus = PanelBus([1, 2])
    poll = bus.poll(0)
    assert poll.startswith(b"$POLL,1,")
    bus.receive_data(panel.encode_status(2, 0, None) + panel.encode_poll(1, "OFF", 0, 0), 1)
    with raises(panel.PanelProtocolError, "desk 2 answered a poll of desk 1"):
        bus.next_event()
    with raises(panel.PanelProtocolError, "only the gateway polls"):
        bus.next_event()
    bus.receive_data(panel.encode_hello(1, "x"), 2)
    assert isinstance(bus.next_event(), PanelUp)
