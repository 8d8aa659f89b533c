"""A board UART in the asyncio loop: bytes in through a callback, bytes out by write(),
as appliance/ expects of a serial link (the CPython port's SerialLink is its twin).

machine.UART is opened non-blocking (timeout=0) with a receive buffer the driver fills
by interrupt; a task drains it every POLL_MS, well before it can fill at 115200 baud
(11.5 bytes per ms: RXBUF lasts 89 ms). An RS-485 line (the panels' bus) raises the
driver-enable pin for a write and drops it once the last byte has left (flush).
A UART that cannot be opened (wrong pins, taken) is retried every RETRY_S seconds.
"""

import asyncio

import machine

POLL_MS = 5
RXBUF = 1024
RETRY_S = 2


class UartLink:
    def __init__(self, name, uart, baud, on_data, on_open, on_lost, log):
        self.name = name
        self.spec = uart  # the board's UART: id, tx, rx (rts, cts, de)
        self.baud = baud
        self.on_data = on_data
        self.on_open = on_open
        self.on_lost = on_lost
        self.log = log
        self.uart = None
        self.de = None
        self.reader = None  # the task draining the UART, while it is open
        self._retry = None
        self._closing = False

    @property
    def is_open(self):
        return self.uart is not None

    def open(self):
        self._retry = None
        if self._closing:
            return
        spec = self.spec
        kwargs = {"baudrate": self.baud, "tx": spec["tx"], "rx": spec["rx"], "rxbuf": RXBUF,
                  "timeout": 0}
        for key in ("rts", "cts"):
            if key in spec:
                kwargs[key] = spec[key]
        try:
            self.uart = machine.UART(spec["id"], **kwargs)
            if "de" in spec:
                self.de = machine.Pin(spec["de"], machine.Pin.OUT, value=0)
        except (OSError, ValueError) as e:
            self.uart = None
            self.log.warn("serial_open_failed", port=self.name, uart=spec["id"], reason=str(e))
            self._retry = asyncio.create_task(self._reopen_later())
            return
        self.log.info("serial_open", port=self.name, uart=spec["id"], baud=self.baud)
        self.reader = asyncio.create_task(self._read())
        self.on_open()

    async def _reopen_later(self):
        await asyncio.sleep(RETRY_S)
        self._retry = None
        self.open()

    async def _read(self):
        while self.uart is not None:
            try:
                data = self.uart.read()
            except OSError as e:
                self._lost(str(e))
                return
            if not data:
                await asyncio.sleep_ms(POLL_MS)
                continue
            try:
                self.on_data(data)
            except Exception as e:  # a bug: one line, and the port keeps being read
                self.log.error("serial_handler_failed", port=self.name, reason=repr(e))

    def write(self, data):
        """Send `data`; False when there is no port to write to."""
        if self.uart is None:
            return False
        if data:
            try:
                if self.de is not None:
                    self.de.value(1)
                self.uart.write(data)
                if self.de is not None:
                    self.uart.flush()  # the last byte has left: release the line
                    self.de.value(0)
            except OSError as e:
                self._lost(str(e))
                return False
        return True

    def _lost(self, reason):
        if self.uart is None:
            return
        self.log.warn("serial_lost", port=self.name, reason=reason)
        self._drop()
        self.on_lost()
        if not self._closing:
            self._retry = asyncio.create_task(self._reopen_later())

    def _drop(self):
        uart, self.uart = self.uart, None
        if self.reader is not None:
            self.reader.cancel()
            self.reader = None
        try:
            uart.deinit()
        except (AttributeError, OSError):
            pass

    def reopen(self):
        """Close and open again, as a technician pulling and replugging the cable would."""
        if self.uart is not None:
            self._drop()
            self.on_lost()
        if self._retry is not None:
            self._retry.cancel()
        self._retry = asyncio.create_task(self._reopen_later())

    def close(self):
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.uart is not None:
            self._drop()
