"""A board UART in the asyncio loop (appliance/link.py's lifecycle) over machine.UART.

The UART is opened non-blocking (timeout=0) with a receive buffer the driver fills by
interrupt; a task drains it every POLL_MS, the buffer long enough at 115200 baud (11.5
bytes per ms) to ride out a flash write. RTS/CTS pins, where the board has them, turn
the UART's hardware flow control on. An RS-485 line (the panels' bus) raises the
driver-enable pin for a write and drops it once the last byte has left (flush).
"""

import asyncio

import machine

from branchline.appliance.link import RETRY_S, Link, stop_task
from branchline.ports.micropython.timer import call_later

POLL_MS = 5
RXBUF = 4096  # the driver's, outside the heap: 355 ms at 115200 (a snapshot's write)


class UartLink(Link):
    def __init__(self, name, uart, baud, on_data, on_open, on_lost, log):
        Link.__init__(self, name, on_data, on_open, on_lost, log)
        self.spec = uart  # the board's UART: id, tx, rx (rts, cts, de)
        self.baud = baud
        self.uart = None
        self.de = None
        self.reader = None  # the task draining the UART, while it is open

    @property
    def is_open(self):
        return self.uart is not None

    def _open_port(self):
        spec = self.spec
        kwargs = {"baudrate": self.baud, "tx": spec["tx"], "rx": spec["rx"], "rxbuf": RXBUF,
                  "timeout": 0}
        flow = 0
        for key, bit in (("rts", "RTS"), ("cts", "CTS")):
            if key in spec:
                kwargs[key] = spec[key]
                flow |= getattr(machine.UART, bit, 0)
        if flow:
            kwargs["flow"] = flow
        try:
            uart = machine.UART(spec["id"], **kwargs)
            self.de = machine.Pin(spec["de"], machine.Pin.OUT, value=0) if "de" in spec else None
        except (OSError, ValueError) as e:
            raise OSError("UART%d: %s" % (spec["id"], e))
        self.uart = uart
        self.log.info("serial_open", port=self.name, uart=spec["id"], baud=self.baud)
        self.reader = asyncio.create_task(self._read())

    def _retry_later(self, function):
        return call_later(RETRY_S, function)

    async def _read(self):
        me = asyncio.current_task()
        while self.reader is me:
            try:
                data = self.uart.read()
            except OSError as e:
                self.lost(str(e))
                return
            if data:
                self.received(data)
                await asyncio.sleep_ms(0)  # a long listing must not hold the loop
            else:
                await asyncio.sleep_ms(POLL_MS)

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
                self.lost(str(e))
                return False
        return True

    def _drop_port(self):
        uart, self.uart = self.uart, None
        reader, self.reader = self.reader, None
        stop_task(reader)
        try:
            if self.de is not None:
                self.de.value(0)  # a transceiver left driving would jam the bus
            uart.deinit()
        except (AttributeError, OSError):
            pass
