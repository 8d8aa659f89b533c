"""A stand-in for MicroPython's `machine` on the unix port, for tests only: pins a test
sets and reads, a UART whose bytes a test feeds and collects (or, for the UART ids the
environment variable BL_UARTS maps to paths, "1=/path/modem,2=/path/panel", the
pseudo-terminal of a simulator), PWM duty cycles, a watchdog that writes each feed's
time to the file BL_WDT names, an RTC, and a unique id."""

import os
import select
import time

PINS = {}  # pin number -> Pin, so a test reaches the pins the code under test made


def _uart_paths():
    out = {}
    for item in (os.getenv("BL_UARTS") or "").split(","):
        if "=" in item:
            uart_id, path = item.split("=", 1)
            out[int(uart_id)] = path
    return out


class Pin:
    IN = 1
    OUT = 2
    PULL_UP = 1

    def __init__(self, number, mode=IN, pull=None, value=None):
        self.number = number
        self.mode = mode
        self.level = 1 if pull == Pin.PULL_UP else 0
        if value is not None:
            self.level = value
        PINS[number] = self

    def value(self, level=None):
        if level is None:
            return self.level
        self.level = 1 if level else 0


class _PtyUart:
    """A UART whose line is a pseudo-terminal (the simulator set it raw)."""

    def __init__(self, path):
        self.f = open(path, "r+b")
        self.poller = select.poll()
        self.poller.register(self.f, select.POLLIN)

    def read(self):
        data = b""
        while len(data) < 4096:
            ready = self.poller.poll(0)
            if not ready:
                break
            if ready[0][1] & (select.POLLHUP | select.POLLERR):
                raise OSError(5, "the line is gone")
            data += self.f.read(1)  # one byte per poll: a read never blocks
        return data or None

    def write(self, data):
        self.f.write(data)
        return len(data)


class UART:
    LAST = None  # the UART made last
    RTS = 1
    CTS = 2

    def __init__(self, uart_id, baudrate=115200, tx=None, rx=None, **kwargs):
        self.id = uart_id
        self.baudrate = baudrate
        self.rx = bytearray()  # what the line brings: the test appends
        self.tx = []  # (bytes written, the DE pin's level then, if one is watched)
        self.watch = None  # a Pin whose level each write records
        path = _uart_paths().get(uart_id)
        self.pty = _PtyUart(path) if path is not None else None
        self.broken = False  # a test sets it: reads fail as a vanished USB adapter's do
        UART.LAST = self

    def read(self):
        if self.broken:
            raise OSError(5, "EIO")
        if self.pty is not None:
            return self.pty.read()
        if not self.rx:
            return None
        data = bytes(self.rx)
        self.rx = bytearray()
        return data

    def write(self, data):
        if self.pty is not None:
            return self.pty.write(data)
        self.tx.append((bytes(data), self.watch.value() if self.watch else None))
        return len(data)

    def flush(self):
        pass

    def deinit(self):
        if self.pty is not None:
            self.pty.f.close()


class PWM:
    LAST = None

    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin
        self.freq = freq
        self.duty = duty_u16
        PWM.LAST = self

    def duty_u16(self, value=None):
        if value is None:
            return self.duty
        self.duty = value


class WDT:
    """Feeds are written (their time.ticks_ms) to the file BL_WDT names, where a test
    reads whether the appliance kept feeding."""

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.path = os.getenv("BL_WDT")

    def feed(self):
        if self.path:
            with open(self.path, "a") as f:
                f.write("%d\n" % time.ticks_ms())


class RTC:
    SET = None  # the last datetime tuple set

    def datetime(self, when=None):
        if when is None:
            return RTC.SET or time.gmtime()
        RTC.SET = when


def unique_id():
    return b"\x24\x0a\xc4\x00\x00\x01"


def reset():
    raise SystemExit(1)
