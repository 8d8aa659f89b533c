"""The panel protocol over a real serial port: the simulator on a pty, or a real panel
(--hil-panel; a technician presses AVAIL on desk 1 when asked, run pytest with -s)."""

import time

import serial

from branchline.proto import panel, panel_events


def read_events(port, until, timeout):
    reader = panel.PanelReader()
    events, errors = [], []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(events):
        reader.receive_data(port.read(256))
        more, bad = reader.read_all()
        events.extend(more)
        errors.extend(bad)
    return events, errors


def test_button_press_and_release_arrive_as_valid_frames(panel_port):
    path, sim = panel_port
    with serial.Serial(path, 115200, timeout=0.05) as port:
        if sim is not None:
            sim.press(1, "AVAIL")
        else:
            print("\n>>> press AVAIL on desk 1 within 30 s")
        presses = lambda evs: [e for e in evs if isinstance(e, panel_events.Button) and not e.pressed]
        events, errors = read_events(port, presses, 30)
        buttons = [(e.desk, e.button, e.pressed) for e in events if isinstance(e, panel_events.Button)]
        assert buttons[-2:] == [(1, "AVAIL", True), (1, "AVAIL", False)]
        assert errors == []


def test_led_commands_are_understood(panel_port):
    path, sim = panel_port
    with serial.Serial(path, 115200, timeout=0.05) as port:
        for state in ("GREEN", "AMBER", "OFF"):
            port.write(panel.encode_led(2, state))
        if sim is None:
            return  # a real panel gives no read-back; a technician watches the LED
        assert sim.wait_led(2, "OFF", 5)
        assert sim.bad_frames == 0
