"""A serial port in the asyncio loop: bytes in through a callback, bytes out by write().

Writes never block the loop: what the port cannot take now waits in a buffer that the
loop drains when the port is writable. When the port vanishes (USB modem unplugged,
simulator gone) the link closes it, tells its owner, and tries to reopen it every
RETRY_S seconds.
"""

import os

import serial

RETRY_S = 2.0


class SerialLink:
    def __init__(self, loop, path, baud, on_data, on_open, on_lost, log, name):
        self.loop = loop
        self.path = path
        self.baud = baud
        self.on_data = on_data
        self.on_open = on_open
        self.on_lost = on_lost
        self.log = log
        self.name = name
        self.port = None
        self._out = bytearray()
        self._writing = False
        self._closing = False
        self._retry = None

    @property
    def is_open(self):
        return self.port is not None

    def open(self):
        self._retry = None
        if self._closing:
            return
        try:
            self.port = serial.Serial(self.path, self.baud, timeout=0)
        except (OSError, serial.SerialException) as e:
            self.log.warn("serial_open_failed", port=self.name, path=self.path, reason=str(e))
            self._retry = self.loop.call_later(RETRY_S, self.open)
            return
        os.set_blocking(self.port.fileno(), False)
        self._out = bytearray()
        self.loop.add_reader(self.port.fileno(), self._readable)
        self.log.info("serial_open", port=self.name, path=self.path, baud=self.baud)
        self.on_open()

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
            self._lost(str(e))
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
            self._lost(str(e))
            return
        if not data:
            self._lost("end of file")
            return
        try:
            self.on_data(data)
        except Exception as e:  # a bug: one line, and the port keeps being read
            self.log.error("serial_handler_failed", port=self.name, reason=repr(e))

    def _lost(self, reason):
        if self.port is None:
            return
        self.log.warn("serial_lost", port=self.name, reason=reason)
        self._drop()
        self.on_lost()
        if not self._closing:
            self._retry = self.loop.call_later(RETRY_S, self.open)

    def _drop(self):
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

    def reopen(self):
        """Close and open again, as a technician pulling and replugging the cable would."""
        if self.port is not None:
            self._drop()
            self.on_lost()
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self.loop.call_later(RETRY_S, self.open)

    def close(self):
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
        if self.port is not None:
            self._drop()
