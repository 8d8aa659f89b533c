"""Validates board definitions: every pin exists on the chip and is free to use, no pin
serves two purposes, outputs are on pins that can drive (not input-only, not strapping
pins that decide how the chip boots), and each UART sits on pins the chip can route it
to. Each error is one line naming the file, the line and the key:

    boards/esp32-wrover/board.json:9: uarts.modem1.tx: GPIO34 is input-only ...

Run: python -m boards.validate [board.json ...]   (no arguments: every board here)
"""

import json
import os
import sys

from boards import names, path
from branchline.core.config import closest

# What each chip allows. `uart_pins`: None when a GPIO matrix routes any UART to any
# pin; else, per UART id, the pins it can use for each signal (Raspberry Pi ALT
# functions). `uart_ids`: the UARTs an application may take (ESP32 UART0 is the REPL).
CHIPS = {
    "esp32": {
        "pins": set(range(0, 20)) | {21, 22, 23, 25, 26, 27} | set(range(32, 40)),
        "input_only": set(range(34, 40)),
        "strapping": {0, 2, 5, 12, 15},
        "reserved": dict([(p, "the SPI flash") for p in range(6, 12)]
                         + [(1, "UART0 (the REPL)"), (3, "UART0 (the REPL)")]),
        "uart_ids": (1, 2),
        "uart_pins": None,
        "runtime": "micropython",
    },
    "esp32s3": {
        "pins": set(range(0, 22)) | set(range(26, 49)),
        "input_only": set(),
        "strapping": {0, 3, 45, 46},
        "reserved": dict([(p, "the SPI flash") for p in range(26, 33)]
                         + [(19, "USB D-"), (20, "USB D+"), (43, "UART0 (the REPL)"),
                            (44, "UART0 (the REPL)")]),
        "uart_ids": (1, 2),
        "uart_pins": None,
        "runtime": "micropython",
    },
}

# Raspberry Pi: the 40-pin header's GPIO 0-27; UARTs only on their ALT functions.
_PI_PINS = set(range(0, 28))
_PI_HAT_EEPROM = {0: "the HAT ID EEPROM", 1: "the HAT ID EEPROM"}
CHIPS["bcm2711"] = {  # Pi 4: PL011 UART0, 2, 3, 4, 5
    "pins": _PI_PINS, "input_only": set(), "strapping": set(), "reserved": _PI_HAT_EEPROM,
    "uart_ids": (0, 2, 3, 4, 5), "runtime": "cpython",
    "uart_pins": {0: {"tx": {14}, "rx": {15}, "cts": {16}, "rts": {17}},
                  2: {"tx": {0}, "rx": {1}, "cts": {2}, "rts": {3}},
                  3: {"tx": {4}, "rx": {5}, "cts": {6}, "rts": {7}},
                  4: {"tx": {8}, "rx": {9}, "cts": {10}, "rts": {11}},
                  5: {"tx": {12}, "rx": {13}, "cts": {14}, "rts": {15}}},
}
CHIPS["bcm2712"] = {  # Pi 5: the RP1's UART0-4
    "pins": _PI_PINS, "input_only": set(), "strapping": set(), "reserved": _PI_HAT_EEPROM,
    "uart_ids": (0, 1, 2, 3, 4), "runtime": "cpython",
    "uart_pins": {0: {"tx": {14}, "rx": {15}, "cts": {16}, "rts": {17}},
                  1: {"tx": {0}, "rx": {1}, "cts": {2}, "rts": {3}},
                  2: {"tx": {4}, "rx": {5}, "cts": {6}, "rts": {7}},
                  3: {"tx": {8}, "rx": {9}, "cts": {10}, "rts": {11}},
                  4: {"tx": {12}, "rx": {13}, "cts": {14}, "rts": {15}}},
}
CHIPS["bcm2710"] = {  # Pi Zero 2 W: UART0 (PL011, once Bluetooth is off) on 14/15 only
    "pins": _PI_PINS, "input_only": set(), "strapping": set(), "reserved": _PI_HAT_EEPROM,
    "uart_ids": (0,), "runtime": "cpython",
    "uart_pins": {0: {"tx": {14}, "rx": {15}, "cts": {16}, "rts": {17}}},
}

# Modules whose package takes pins of the chip for itself.
MODULES = {
    "esp32-wroom-32": {"chip": "esp32", "reserved": {}, "psram_kb": 0},
    # The WROVER's PSRAM is wired to GPIO16 and GPIO17 (UART2's usual pins).
    "esp32-wrover": {"chip": "esp32", "reserved": {16: "the PSRAM", 17: "the PSRAM"},
                     "psram_kb": 8192},
    # Octal PSRAM takes GPIO33-37 on the R8 modules.
    "esp32-s3-wroom-1-n16r8": {"chip": "esp32s3",
                               "reserved": dict((p, "the octal PSRAM") for p in range(33, 38)),
                               "psram_kb": 8192},
}

TOP_KEYS = ("board", "description", "runtime", "chip", "module", "uart", "uarts", "modems",
            "panel", "leds", "led", "buttons", "buzzer", "storage", "memory", "desk")
UART_KEYS = ("id", "device", "overlay", "usb", "tx", "rx", "rts", "cts", "de", "baud")
MODEM_KEYS = ("uart", "power", "reset", "active")
BUZZER_KEYS = ("pin", "freq")
STORAGE_KEYS = ("fs", "mount", "bytes")
MEMORY_KEYS = ("heap_kb", "psram_kb")
FILESYSTEMS = {"micropython": ("littlefs", "fat"), "cpython": ("ext4", "f2fs")}
BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
UART_OUTPUTS = ("tx", "rts", "de")
UART_INPUTS = ("rx", "cts")


class BoardError(ValueError):
    """One thing wrong, with the key path it is at (a tuple of keys)."""

    def __init__(self, key_path, message):
        ValueError.__init__(self, message)
        self.key_path = key_path


def key_lines(text):
    """{key path tuple: line} for every key of the JSON document `text` (list items by
    index), so an error can name its line. The text is valid JSON (json.loads read it)."""
    lines = {}
    pos = [0]

    def skip():
        while pos[0] < len(text) and text[pos[0]] in " \t\r\n":
            pos[0] += 1

    def string():
        start = pos[0]
        pos[0] += 1
        while text[pos[0]] != '"':
            pos[0] += 2 if text[pos[0]] == "\\" else 1
        pos[0] += 1
        return json.loads(text[start:pos[0]])

    def value(here):
        skip()
        c = text[pos[0]]
        if c == "{":
            pos[0] += 1
            skip()
            while text[pos[0]] != "}":
                skip()
                key = here + (string(),)
                lines[key] = text.count("\n", 0, pos[0]) + 1
                skip()
                pos[0] += 1  # the colon
                value(key)
                skip()
                if text[pos[0]] == ",":
                    pos[0] += 1
                    skip()
            pos[0] += 1
        elif c == "[":
            pos[0] += 1
            skip()
            i = 0
            while text[pos[0]] != "]":
                skip()
                lines[here + (i,)] = text.count("\n", 0, pos[0]) + 1
                value(here + (i,))
                skip()
                if text[pos[0]] == ",":
                    pos[0] += 1
                    skip()
                i += 1
            pos[0] += 1
        elif c == '"':
            string()
        else:
            while pos[0] < len(text) and text[pos[0]] not in ",}] \t\r\n":
                pos[0] += 1

    value(())
    return lines


def _keys(doc, known, here):
    if not isinstance(doc, dict):
        raise BoardError(here, "must be an object")
    for key in doc:
        if key not in known:
            hint = closest(key, known)
            raise BoardError(here + (key,), "unknown key" + (
                " (did you mean %s?)" % hint if hint else ""))
    return doc


def _int(doc, key, here, lo=0, hi=1 << 40):
    if key not in doc:
        raise BoardError(here, "missing %s" % key)
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BoardError(here + (key,), "must be a whole number %d..%d, got %r" % (lo, hi, value))
    return value


class _Pins:
    """Every pin the board uses, with what uses it and whether it drives it."""

    def __init__(self, chip, module):
        self.chip = chip
        self.reserved = dict(chip["reserved"])
        self.reserved.update(module.get("reserved", {}) if module else {})
        self.used = {}  # pin -> key path that took it

    def take(self, doc, key, here, output):
        pin = _int(doc, key, here, 0, 255)
        where = here + (key,)
        if pin not in self.chip["pins"]:
            raise BoardError(where, "GPIO%d does not exist on this chip" % pin)
        if pin in self.reserved:
            raise BoardError(where, "GPIO%d is taken by %s" % (pin, self.reserved[pin]))
        if output and pin in self.chip["input_only"]:
            raise BoardError(where, "GPIO%d is input-only: it cannot drive an output" % pin)
        if pin in self.chip["strapping"]:
            # Driven or pulled by what is wired to it (a UART's idle-high RX, a held
            # button), it would change how the chip boots.
            raise BoardError(where, "GPIO%d is a strapping pin (it decides how the chip "
                                    "boots): not for a line or a button" % pin)
        if pin in self.used:
            raise BoardError(where, "GPIO%d is already %s" % (pin, ".".join(
                str(k) for k in self.used[pin])))
        self.used[pin] = where
        return pin


def _check_uart(u, here, runtime, chip, pins, ids_seen):
    _keys(u, UART_KEYS, here)
    if "baud" in u and u["baud"] not in BAUDS:
        raise BoardError(here + ("baud",), "must be one of %s" % ", ".join(map(str, BAUDS)))
    if u.get("usb"):
        if runtime != "cpython":
            raise BoardError(here + ("usb",), "a USB serial port needs a CPython board")
        for key in UART_OUTPUTS + UART_INPUTS + ("id",):
            if key in u:
                raise BoardError(here + (key,), "a USB serial port has no %s" % key)
        if not str(u.get("device", "")).startswith("/dev/"):
            raise BoardError(here + ("device",), "must name the port under /dev/")
        return
    for key in ("id", "tx", "rx"):
        if key not in u:
            raise BoardError(here, "missing %s" % key)
    uid = _int(u, "id", here, 0, 15)
    if uid not in chip["uart_ids"]:
        raise BoardError(here + ("id",), "UART%d is not for the application on this chip "
                         "(it may use %s)" % (uid, ", ".join(map(str, chip["uart_ids"]))))
    if uid in ids_seen:
        raise BoardError(here + ("id",), "UART%d is already %s" % (uid, ids_seen[uid]))
    ids_seen[uid] = ".".join(here)
    if runtime == "cpython" and not str(u.get("device", "")).startswith("/dev/"):
        raise BoardError(here + ("device",), "must name the port under /dev/")
    routing = chip["uart_pins"]
    if routing is not None and "de" in u and u["de"] not in routing[uid]["rts"]:
        # Linux drives RS-485's driver enable itself, on the UART's RTS line.
        raise BoardError(here + ("de",), "UART%d's RS-485 driver enable is its RTS pin "
                         "(GPIO%d), which the kernel drives" % (uid, min(routing[uid]["rts"])))
    for key in UART_OUTPUTS + UART_INPUTS:
        if key not in u:
            continue
        pin = pins.take(u, key, here, key in UART_OUTPUTS)
        if routing is not None and key in routing[uid] and pin not in routing[uid][key]:
            raise BoardError(here + (key,), "UART%d cannot put %s on GPIO%d (only on %s)" % (
                uid, key.upper(), pin, ", ".join("GPIO%d" % p for p in sorted(routing[uid][key]))))


def check(doc, name=None):
    """Raises BoardError for the first thing wrong with the board `doc`."""
    _keys(doc, TOP_KEYS, ())
    for key in ("board", "runtime", "chip"):
        if not isinstance(doc.get(key), str):
            raise BoardError((key,) if key in doc else (), "missing %s (a string)" % key)
    if name is not None and doc["board"] != name:
        raise BoardError(("board",), "must be the folder's name, %r" % name)
    runtime = doc["runtime"]
    if runtime not in FILESYSTEMS:
        raise BoardError(("runtime",), "must be cpython or micropython")
    chip = CHIPS.get(doc["chip"])
    if chip is None:
        raise BoardError(("chip",), "unknown chip (known: %s)" % ", ".join(sorted(CHIPS)))
    if chip["runtime"] != runtime:
        raise BoardError(("runtime",), "a %s board runs %s" % (doc["chip"], chip["runtime"]))
    module = None
    if "module" in doc:
        module = MODULES.get(doc["module"])
        if module is None or module["chip"] != doc["chip"]:
            raise BoardError(("module",), "not a module of the %s (known: %s)" % (
                doc["chip"], ", ".join(sorted(m for m in MODULES
                                              if MODULES[m]["chip"] == doc["chip"]))))
    pins = _Pins(chip, module)
    ids_seen = {}
    if "uart" in doc:  # a board with one UART (the reference panel)
        _check_uart(doc["uart"], ("uart",), runtime, chip, pins, ids_seen)
    for uname, u in sorted(doc.get("uarts", {}).items()):
        _check_uart(u, ("uarts", uname), runtime, chip, pins, ids_seen)
    taken = {}

    def claim(section, here):
        uname = section.get("uart")
        if uname not in doc.get("uarts", {}):
            raise BoardError(here + ("uart",), "names no UART of this board (it has %s)" % (
                ", ".join(sorted(doc.get("uarts", {}))) or "none"))
        if uname in taken:
            raise BoardError(here + ("uart",), "UART %s is already %s's" % (uname, taken[uname]))
        taken[uname] = ".".join(here)

    for mname, m in sorted(doc.get("modems", {}).items()):
        here = ("modems", mname)
        _keys(m, MODEM_KEYS, here)
        claim(m, here)
        for key in ("power", "reset"):
            if key in m:
                pins.take(m, key, here, True)
        if m.get("active", "high") not in ("high", "low"):
            raise BoardError(here + ("active",), "must be high or low")
    if "panel" in doc:
        _keys(doc["panel"], ("uart",), ("panel",))
        claim(doc["panel"], ("panel",))
    for group, output in (("leds", True), ("led", True), ("buttons", False)):
        for key in sorted(doc.get(group, {})):
            pins.take(doc[group], key, (group,), output)
    if "buzzer" in doc:
        _keys(doc["buzzer"], BUZZER_KEYS, ("buzzer",))
        pins.take(doc["buzzer"], "pin", ("buzzer",), True)
    if "storage" in doc:
        storage = _keys(doc["storage"], STORAGE_KEYS, ("storage",))
        if storage.get("fs") not in FILESYSTEMS[runtime]:
            raise BoardError(("storage", "fs"), "a %s board keeps its journal on %s" % (
                runtime, " or ".join(FILESYSTEMS[runtime])))
        _int(storage, "bytes", ("storage",), 1)
    if "memory" in doc:
        memory = _keys(doc["memory"], MEMORY_KEYS, ("memory",))
        _int(memory, "heap_kb", ("memory",), 1)
        if "psram_kb" in memory:
            most = module["psram_kb"] if module else 0
            _int(memory, "psram_kb", ("memory",), 0, most)


def check_file(file_path, name=None):
    """-> None, or the one-line error `file:line: key: message`."""
    try:
        with open(file_path, encoding="utf-8") as f:
            text = f.read()
        doc = json.loads(text)
    except OSError as e:
        return "%s: %s" % (file_path, e.strerror or e)
    except ValueError as e:
        return "%s:%d: not JSON: %s" % (file_path, getattr(e, "lineno", 0), getattr(e, "msg", e))
    try:
        check(doc, name)
    except BoardError as e:
        line = 1
        lines = key_lines(text)
        for n in range(len(e.key_path), 0, -1):
            if e.key_path[:n] in lines:
                line = lines[e.key_path[:n]]
                break
        return "%s:%d: %s: %s" % (file_path, line, ".".join(str(k) for k in e.key_path)
                                  or "(top)", e)
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    targets = argv or [path(n) for n in names()]
    failed = 0
    for target in targets:
        # A board's file sits in the folder of its name (boards/<board>/board.json).
        error = check_file(target, os.path.basename(os.path.dirname(os.path.abspath(target))))
        if error:
            failed += 1
            print(error)
        else:
            print("%s: ok" % target)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
