"""A serial port in the asyncio loop (appliance/link.py's lifecycle) over pyserial.

Writes never block the loop: what the port cannot take now waits in a buffer that the
loop drains when the port is writable. An RS-485 line (the panels' bus on a Pi's UART)
has the kernel drive its transceiver's driver enable on RTS (TIOCSRS485); where the
port cannot do that (a USB adapter without it, a pseudo-terminal) the link says so
once and carries on, as an adapter with automatic direction control needs nothing.
"""

import os

import serial
import serial.rs485

from branchline.appliance.link import RETRY_S, Link


class SerialLink(Link):
    def __init__(self, loop, path, baud, on_data, on_open, on_lost, log, name, rs485=False):
        Link.__init__(self, name, on_data, on_open, on_lost, log)
        self.loop = loop
        self.path = path
        self.baud = baud
        self.rs485 = rs485
        self.port = None
        self._out = bytearray()
        self._writing = False

    @property
    def is_open(self):
        return self.port is not None

    def _open_port(self):
        try:
            self.port = serial.Serial(self.path, self.baud, timeout=0)
        except serial.SerialException as e:
            raise OSError("%s: %s" % (self.path, e))
        os.set_blocking(self.port.fileno(), False)
        if self.rs485:
            try:
                self.port.rs485_mode = serial.rs485.RS485Settings(
                    rts_level_for_tx=True, rts_level_for_rx=False)
            except (ValueError, OSError, serial.SerialException) as e:
                self.log.warn("rs485_unavailable", port=self.name, path=self.path,
                              reason=str(e))
        self._out = bytearray()
        self.loop.add_reader(self.port.fileno(), self._readable)
        self.log.info("serial_open", port=self.name, path=self.path, baud=self.baud)

    def _retry_later(self, function):
        return self.loop.call_later(RETRY_S, function)

    def write(self, data):
        """Queue `data` for the port; False when there is no port to write to."""
        if self.port is None:
            return False
        if data:
            self._out.extend(data)
            self._drain_out()
        return True

    def _drain_out(self):
        if self.port is None:
            return
        try:
            written = os.write(self.port.fileno(), self._out) if self._out else 0
        except BlockingIOError:
            written = 0
        except OSError as e:
            self.lost(str(e))
            return
        del self._out[:written]
        if self._out and not self._writing:
            self._writing = True
            self.loop.add_writer(self.port.fileno(), self._drain_out)
        elif not self._out and self._writing:
            self._writing = False
            self.loop.remove_writer(self.port.fileno())

    def _readable(self):
        try:
            data = os.read(self.port.fileno(), 4096)
        except OSError as e:
            self.lost(str(e))
            return
        if not data:
            self.lost("end of file")
            return
        self.received(data)

    def _drop_port(self):
        try:
            self.loop.remove_reader(self.port.fileno())
            if self._writing:
                self.loop.remove_writer(self.port.fileno())
        except (OSError, ValueError):
            pass
        self._writing = False
        self._out = bytearray()
        try:
            self.port.close()
        except (OSError, serial.SerialException):
            pass
        self.port = None
