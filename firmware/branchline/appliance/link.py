"""What a serial link does whatever the runtime (ports/cpython/serial_link.py over
pyserial, ports/micropython/uart_link.py over machine.UART): bytes in through
on_data(bytes), out through write(); on_open() once the port is open, on_lost() when it
goes (unplugged, vanished, a read error), then a new try every RETRY_S seconds; reopen()
as a technician replugging the cable would; close() for good.

A subclass gives `is_open`, `_open_port()` (raises OSError or ValueError when the port
cannot be opened; logs serial_open), `_drop_port()` (forget the port; never raises),
`_retry_later(function)` -> a handle with cancel(), and write(data).
"""

import asyncio

RETRY_S = 2


def stop_task(task):
    """Cancel `task` unless it is the one running: MicroPython's asyncio cannot cancel a
    task from inside it, so a task that drops its own link ends by itself, finding it
    is no longer the link's (each loop checks `current_task() is self.<its task>`)."""
    if task is not None and task is not asyncio.current_task():
        task.cancel()


class Link:
    def __init__(self, name, on_data, on_open, on_lost, log):
        self.name = name
        self.on_data = on_data
        self.on_open = on_open
        self.on_lost = on_lost
        self.log = log
        self._closing = False
        self._retry = None

    def open(self):
        self._retry = None
        if self._closing:
            return
        try:
            self._open_port()
        except (OSError, ValueError) as e:
            self.log.warn("serial_open_failed", port=self.name, reason=str(e))
            self._retry = self._retry_later(self.open)
            return
        self.on_open()

    def received(self, data):
        """Bytes from the port, for the owner."""
        try:
            self.on_data(data)
        except Exception as e:  # a bug: one line, and the port keeps being read
            self.log.error("serial_handler_failed", port=self.name, reason=repr(e))

    def lost(self, reason):
        if not self.is_open:
            return
        self.log.warn("serial_lost", port=self.name, reason=reason)
        self._drop_port()
        self.on_lost()
        if not self._closing:
            self._retry = self._retry_later(self.open)

    def reopen(self):
        """Close and open again, as a technician pulling and replugging the cable would."""
        if self.is_open:
            self._drop_port()
            self.on_lost()
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self._retry_later(self.open)

    def close(self):
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.is_open:
            self._drop_port()
