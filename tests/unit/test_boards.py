"""The board definitions (boards/*/board.json) and their validator: every shipped board
passes, and each rule refuses what it should with one line naming file, line and key."""

import json
import os

import pytest

import boards
from boards import validate
from branchline import hardware
from branchline.core.config import ConfigError
from branchline.ports.cpython.cli import on_board

SHIPPED = ("esp32-s3", "esp32-wrover", "pi-zero-2w", "pi4", "pi5", "reference-panel")


def test_every_board_the_issue_names_is_defined_and_valid(capsys):
    assert set(SHIPPED) <= set(boards.names())
    assert validate.main([]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == len(boards.names())


def write(tmp_path, name, doc):
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "board.json"
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


def changed(name, edit):
    doc = boards.load(name)
    edit(doc)
    return doc


def error_for(tmp_path, name, edit):
    doc = changed(name, edit)
    return validate.check_file(write(tmp_path, name, doc), name)


def line_of(path, key):
    """The line of the dotted `key` in a file json.dumps(indent=2) wrote: each level's
    key is found, in order, at its own indentation."""
    lines = open(path).read().split("\n")
    at = 0
    for depth, part in enumerate(key.split(".")):
        start = " " * (2 * depth + 2) + '"%s"' % part
        at = next(i for i in range(at, len(lines)) if lines[i].startswith(start))
    return at + 1


@pytest.mark.parametrize("name, edit, key, words", [
    # A pin used twice: the second use names the first.
    ("esp32-wrover", lambda d: d["leds"].update(uplink=13), "leds.uplink",
     "GPIO13 is already uarts.panel.de"),
    # Strapping pins decide the boot mode: never outputs.
    ("esp32-wrover", lambda d: d["leds"].update(status=12), "leds.status", "strapping pin"),
    ("esp32-s3", lambda d: d["modems"]["modem1"].update(power=46), "modems.modem1.power",
     "strapping pin"),
    # ... nor a line that idles high at boot, nor the REPL's pins.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(rx=12), "uarts.modem1.rx",
     "strapping pin"),
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(tx=1), "uarts.modem1.tx",
     "UART0 (the REPL)"),
    ("esp32-s3", lambda d: d["uarts"]["modem1"].update(rx=44), "uarts.modem1.rx",
     "UART0 (the REPL)"),
    # A Pi's RS-485 driver enable is the UART's RTS, which the kernel drives.
    ("pi4", lambda d: d["uarts"]["panel"].update(de=18), "uarts.panel.de",
     "UART0's RS-485 driver enable is its RTS pin (GPIO17)"),
    # Input-only pins cannot drive anything, a UART's TX included.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(tx=35), "uarts.modem1.tx",
     "input-only"),
    # ... but they may receive.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(rx=39), None, None),
    # The WROVER's PSRAM owns GPIO16/17; the flash owns 6-11.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(rx=16), "uarts.modem1.rx",
     "taken by the PSRAM"),
    ("esp32-wrover", lambda d: d["leds"].update(status=7), "leds.status",
     "taken by the SPI flash"),
    ("esp32-s3", lambda d: d["leds"].update(status=19), "leds.status", "USB D-"),
    ("esp32-s3", lambda d: d["leds"].update(status=23), "leds.status", "does not exist"),
    # A Raspberry Pi UART only reaches its ALT-function pins.
    ("pi4", lambda d: d["uarts"]["modem1"].update(tx=6), "uarts.modem1.tx",
     "UART3 cannot put TX on GPIO6 (only on GPIO4)"),
    ("pi-zero-2w", lambda d: d["uarts"]["panel"].update(id=3), "uarts.panel.id",
     "UART3 is not for the application"),
    # UART0 of an ESP32 is the REPL; two UARTs cannot share an id.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(id=0), "uarts.modem1.id",
     "UART0 is not for the application"),
    ("esp32-s3", lambda d: d["uarts"]["modem1"].update(id=2), "uarts.panel.id",
     "UART2 is already uarts.modem1"),
    ("pi5", lambda d: d["uarts"]["modem2"].update(tx=20), "uarts.modem2.tx",
     "a USB serial port has no tx"),
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(usb=True), "uarts.modem1.usb",
     "needs a CPython board"),
    # One UART, one user.
    ("pi4", lambda d: d["panel"].update(uart="modem1"), "panel.uart",
     "UART modem1 is already modems.modem1's"),
    ("pi4", lambda d: d["modems"]["modem1"].update(uart="modem9"), "modems.modem1.uart",
     "names no UART of this board"),
    # Typos, kinds and budgets.
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(bauds=9600), "uarts.modem1.bauds",
     "unknown key (did you mean baud?)"),
    ("esp32-wrover", lambda d: d["uarts"]["modem1"].update(baud=100000), "uarts.modem1.baud",
     "must be one of"),
    ("esp32-wrover", lambda d: d["memory"].update(psram_kb=65536), "memory.psram_kb",
     "0..8192"),
    ("esp32-wrover", lambda d: d["storage"].update(fs="ext4"), "storage.fs", "littlefs"),
    ("esp32-wrover", lambda d: d.update(runtime="cpython"), "runtime",
     "a esp32 board runs micropython"),
    ("esp32-wrover", lambda d: d.update(module="esp32-s3-wroom-1-n16r8"), "module",
     "not a module of the esp32"),
    ("esp32-wrover", lambda d: d.update(board="esp32"), "board", "the folder's name"),
    ("reference-panel", lambda d: d["buttons"].update(NEXT=34), None, None),
    ("reference-panel", lambda d: d["led"].update(red=34), "led.red", "input-only"),
    ("reference-panel", lambda d: d["buzzer"].update(pin=17), "buzzer.pin",
     "GPIO17 is already uart.tx"),
])
def test_each_rule_names_file_line_and_key(tmp_path, name, edit, key, words):
    error = error_for(tmp_path, name, edit)
    if key is None:
        assert error is None
        return
    path = str(tmp_path / name / "board.json")
    assert error is not None and "\n" not in error
    assert error.startswith("%s:%d: %s: " % (path, line_of(path, key), key)), error
    assert words in error, error


def test_broken_json_names_its_line(tmp_path):
    folder = tmp_path / "pi4"
    folder.mkdir()
    (folder / "board.json").write_text('{\n  "board": "pi4",\n  "chip": bcm2711\n}\n')
    error = validate.check_file(str(folder / "board.json"), "pi4")
    assert error.startswith(str(folder / "board.json") + ":3: not JSON"), error


def test_the_command_line_fails_for_a_bad_board(tmp_path, capsys):
    path = write(tmp_path, "pi5", changed("pi5", lambda d: d["leds"].update(status=14)))
    assert validate.main([path]) == 1
    assert "leds.status: GPIO14 is already uarts.panel.tx" in capsys.readouterr().out


def test_key_lines_follow_nesting_and_lists():
    text = '{"a": {"b": [1, {"c": "x\\"y"}]},\n "d":\n  {"e": 2}}'
    lines = validate.key_lines(text)
    assert lines[("a", "b", 1, "c")] == 1 and lines[("d",)] == 2 and lines[("d", "e")] == 3


# -- a device configuration and its board (branchline.hardware) ---------------------------

def config(board, modems, panel=None):
    cfg = {"board": board, "modems": [{"id": "m%d" % i, "port": p} for i, p in enumerate(modems)],
           "disk_ceiling_mb": 4}
    if panel is not None:
        cfg["panel"] = {"port": panel}
    return cfg


def test_a_configuration_names_its_boards_uarts():
    board = boards.load("esp32-wrover")
    found = hardware.serial_ports(config("esp32-wrover", ["modem1"], "panel"), board)
    assert [(w, u["id"]) for w, _, u in found] == [("modems[0].", 1), ("panel.", 2)]


@pytest.mark.parametrize("board, cfg, message", [
    ("esp32-wrover", config("pi4", ["modem1"]),
     "board: this device is a esp32-wrover, the configuration names pi4"),
    ("esp32-wrover", config("esp32-wrover", ["modem2"]),
     "modems[0].port: 'modem2' is not a UART of board esp32-wrover (it has modem1, panel)"),
    # A device path is only for a CPython board (a USB modem).
    ("esp32-wrover", config("esp32-wrover", ["/dev/ttyUSB0"]), "is not a UART of board"),
    ("pi4", config("pi4", ["modem1"], "modem1"), "panel.port: 'modem1' is modems[0].port already"),
])
def test_a_configuration_for_another_board_is_refused(board, cfg, message):
    with pytest.raises(ConfigError) as e:
        hardware.serial_ports(cfg, boards.load(board))
    assert message in str(e.value)


def test_cpython_turns_board_ports_into_device_paths():
    cfg = on_board(config("pi4", ["modem1", "/dev/ttyUSB3"], "panel"))
    assert [m["port"] for m in cfg["modems"]] == ["/dev/ttyAMA3", "/dev/ttyUSB3"]
    assert cfg["panel"] == {"port": "/dev/ttyAMA0", "baud": 115200, "rs485": True}
    assert "rs485" not in cfg["modems"][0]
    with pytest.raises(ConfigError) as e:
        on_board(config("pi6", []))
    assert str(e.value).startswith("board: no board 'pi6' (known: esp32-s3, ")


def test_boards_ship_in_the_package():
    assert os.path.exists(boards.path("esp32-wrover"))


def test_an_rs485_line_asks_the_kernel_and_carries_on_where_it_cannot(tmp_path):
    """A pseudo-terminal has no RS-485 mode: the link says so once and works."""
    import asyncio
    import io
    import os
    import tty

    from branchline.log import Log, parse_line
    from branchline.ports.cpython.serial_link import SerialLink

    master, slave = os.openpty()
    tty.setraw(slave)
    out = io.StringIO()
    got = []

    async def run():
        link = SerialLink(asyncio.get_running_loop(), os.ttyname(slave), 115200, got.append,
                          lambda: None, lambda: None, Log(out), "panel", rs485=True)
        link.open()
        os.write(master, b"hello")
        for _ in range(50):
            await asyncio.sleep(0.01)
            if got:
                break
        link.close()

    asyncio.run(run())
    os.close(master)
    os.close(slave)
    assert got == [b"hello"]
    warned = [parse_line(line) for line in out.getvalue().splitlines() if "rs485" in line]
    assert len(warned) == 1 and warned[0]["event"] == "rs485_unavailable"


def test_the_state_folders_ceiling_must_fit_the_boards_storage():
    cfg = {"disk_ceiling_mb": 256}
    with pytest.raises(ConfigError) as e:
        hardware.check_storage(cfg, boards.load("esp32-wrover"))
    assert str(e.value) == ("disk_ceiling_mb: 256 MB is more than board esp32-wrover's "
                            "storage (6 MB)")
    cfg["disk_ceiling_mb"] = 4
    hardware.check_storage(cfg, boards.load("esp32-wrover"))
