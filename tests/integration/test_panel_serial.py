"""The panels' bus over a real serial port: the simulator on a pty, or a real panel
(--hil-panel; a technician presses AVAIL on desk 1 when asked, run pytest with -s);
and through the whole gateway, a panel that dies and comes back, and one that loses
the gateway."""

import time

import serial

from branchline.proto.panel_bus import PanelBus
from branchline.proto.panel_events import PanelUp, Pressed
from host_tools.sim_branch import SimulatedBranch


def drive(port, bus, until, timeout):
    """Be the gateway on `port` until until(events) or `timeout` s: -> (events, errors)."""
    events, errors = [], []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(events):
        now = int(time.monotonic() * 1000)
        poll = bus.poll(now)
        if poll is not None:
            port.write(poll)
        bus.receive_data(port.read(256), int(time.monotonic() * 1000))
        found, bad = bus.read_all()
        events.extend(found)
        errors.extend(bad)
    return events, errors


def test_a_press_arrives_once_and_the_led_follows_the_polls(panel_port):
    path, sim = panel_port
    bus = PanelBus([1, 2])
    with serial.Serial(path, 115200, timeout=0.005) as port:
        up = lambda evs: sum(isinstance(e, PanelUp) for e in evs) >= (2 if sim else 1)
        events, errors = drive(port, bus, up, 10)
        assert up(events) and errors == [], (events, errors)
        if sim is not None:
            sim.press(1, "AVAIL")
        else:
            print("\n>>> press AVAIL on desk 1 within 30 s")
        pressed = lambda evs: [e for e in evs if isinstance(e, Pressed)]
        events, errors = drive(port, bus, pressed, 30)
        assert [(e.desk, e.button) for e in pressed(events)] == [(1, "AVAIL")]
        assert errors == []
        bus.set_led(2, "AMBER")
        drive(port, bus, lambda evs: False, 0.5)
        if sim is not None:
            assert sim.leds[2] == "AMBER" and sim.bad_frames == 0


def test_a_panel_unplugged_is_noticed_and_gets_its_led_back_when_plugged_in(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path))
    b.start()
    try:
        b.panel.press(1, "AVAIL")
        assert b.panel.wait_led(1, "GREEN", 5)
        b.panel.unplug(1)
        (lost,) = b.wait_for("desk 1's panel lost", lambda: b.gateway_has("panel_lost"))
        assert lost["desk"] == "1" and lost["level"] == "warn"
        b.panel.plug(1)  # a fresh panel: it knows nothing yet
        (back,) = b.wait_for("back", lambda: b.gateway_has("panel_up", desk="1", back="True"))
        assert b.panel.wait_led(1, "GREEN", 1.0)
        assert back["firmware"] == "panel-sim-2.0"
        assert b.gateway_has("panel_button", desk="1") and len(
            b.gateway_has("panel_button")) == 1  # plugging in pressed nothing
    finally:
        b.close()


def test_a_panel_without_its_gateway_says_so(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path))
    b.start()
    try:
        assert b.panel.wait_led(1, "OFF", 5)
        assert b.panel.outputs(1)[0] == "OFF"
        b.stop_gateway()
        time.sleep(3.5)
        shown = set()
        for _ in range(3):
            shown.add(b.panel.outputs(1)[0])
            time.sleep(0.5)
        assert shown == {"RED", "AMBER"}, shown
    finally:
        b.close()
