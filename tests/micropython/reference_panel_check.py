# The reference panel's board code (boards/reference-panel) under MicroPython, with the
# shim's simulated pins and a gateway (PanelBus) polling it. Prints one line per
# failed check and "reference panel: N checks, F failed" at the end.
import json
import sys

import machine
import panel_board
from branchline.proto.panel_bus import PanelBus
from branchline.proto.panel_events import PanelUp, Pressed
from tally import Tally

with open(sys.argv[1]) as f:
    config = json.load(f)
board = panel_board.PanelBoard(config)
uart = machine.UART.LAST
uart.watch = board.de  # each write records whether the transceiver was driving
pins = machine.PINS
bus = PanelBus([config["desk"]])
events = []
tally = Tally("reference panel")
check = tally.check
now = [0]


def step(polling=True):
    if polling:
        poll = bus.poll(now[0])
        if poll is not None:
            uart.rx.extend(poll)
    board.step(now[0])
    for data, _de in uart.tx:
        bus.receive_data(data, now[0])
    uart.tx = []
    found, errors = bus.read_all()
    events.extend(found)
    check(errors == [], "frames: %r" % errors)
    now[0] += 2


def run(ms, polling=True):
    end = now[0] + ms
    while now[0] < end:
        step(polling)


def led():
    red = pins[config["led"]["red"]].value()
    green = pins[config["led"]["green"]].value()
    return {(0, 0): "OFF", (1, 0): "RED", (0, 1): "GREEN", (1, 1): "AMBER"}[(red, green)]


run(100)
check([e.firmware for e in events if isinstance(e, PanelUp)] == ["ref-panel-1.0"], "hello")
# The transceiver drives the line while the panel answers, and only then.
answers = []
for _ in range(20):
    board.step(now[0])
    uart.rx.extend(bus.poll(now[0]) or b"")
    board.step(now[0])
    answers.extend(uart.tx)
    step()
check(answers and all(de == 1 for _data, de in answers), "DE high while answering")
check(board.de.value() == 0, "DE low between answers")

bus.set_led(config["desk"], "GREEN")
run(50)
check(led() == "GREEN", "green")
bus.set_led(config["desk"], "AMBER")
run(50)
check(led() == "AMBER", "amber is both colours")

# A bouncing press: the contact chatters for 12 ms, then holds; released later.
avail = pins[config["buttons"]["AVAIL"]]
for i in range(6):
    avail.value(i % 2)
    step()
avail.value(0)
run(60)
avail.value(1)
run(60)
presses = [(e.desk, e.button) for e in events if isinstance(e, Pressed)]
check(presses == [(config["desk"], "AVAIL")], "one press through the bounce: %r" % presses)

# A glitch shorter than the debounce time is no press.
brk = pins[config["buttons"]["BREAK"]]
brk.value(0)
step()
step()
brk.value(1)
run(60)
check(len([e for e in events if isinstance(e, Pressed)]) == 1, "a 4 ms glitch is no press")

# Blinking, then the buzzer on an offer.
bus.set_led(config["desk"], "GREEN_BLINK")
seen = set()
for _ in range(60):
    run(20)
    seen.add(led())
check(seen == {"GREEN", "OFF"}, "blinks: %r" % seen)
bus.buzz(config["desk"], 300)
run(30)
check(machine.PWM.LAST.duty_u16() > 0, "the buzzer sounds on an offer")
run(400)
check(machine.PWM.LAST.duty_u16() == 0, "and stops")

# The gateway goes quiet: after 3 s the LED alternates red and amber.
run(3100, polling=False)
seen = set()
for _ in range(10):
    run(250, polling=False)
    seen.add(led())
check(seen == {"RED", "AMBER"}, "no gateway: %r" % seen)
run(200)
check(led() in ("GREEN", "OFF"), "the gateway is back: its LED again")

tally.summary()
