"""A stand-in for MicroPython's `machine` on the unix port, for tests only: pins a test
sets and reads, a UART whose bytes a test feeds and collects, PWM duty cycles."""

PINS = {}  # pin number -> Pin, so a test reaches the pins the code under test made


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


class UART:
    LAST = None  # the UART made last

    def __init__(self, uart_id, baudrate=115200, tx=None, rx=None):
        self.id = uart_id
        self.baudrate = baudrate
        self.rx = bytearray()  # what the line brings: the test appends
        self.tx = []  # (bytes written, the DE pin's level then, if one is watched)
        self.watch = None  # a Pin whose level each write records
        UART.LAST = self

    def read(self):
        if not self.rx:
            return None
        data = bytes(self.rx)
        self.rx = bytearray()
        return data

    def write(self, data):
        self.tx.append((bytes(data), self.watch.value() if self.watch else None))
        return len(data)

    def flush(self):
        pass


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
