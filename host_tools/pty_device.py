"""A simulated serial device on a pseudo-terminal, reachable at a stable path (a symlink to
the pty's slave side, as `socat PTY,link=...` makes), so drivers open it like hardware.

Subclasses implement `on_bytes(data)` and call `write(data)`; a thread moves the bytes.
"""

import errno
import os
import select
import threading
import tty


class PtyDevice:
    def __init__(self, link):
        self.link = os.path.abspath(link)
        self._master = None
        self._slave = None
        self._thread = None
        self._wake_r, self._wake_w = os.pipe()
        self._out = bytearray()
        self._lock = threading.Lock()
        self._stopping = False

    def start(self):
        self._master, self._slave = os.openpty()
        # Raw mode on the slave so the line discipline does not echo or translate CR/LF:
        # the only echo the driver sees is the simulated device's own.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self._slave), self.link)
        self._thread = threading.Thread(target=self._run, name="pty:" + self.link, daemon=True)
        self._thread.start()
        self.on_start()
        return self

    def on_start(self):
        """Hook: the port exists (a panel announces itself here)."""

    def on_bytes(self, data):
        raise NotImplementedError

    def write(self, data):
        with self._lock:
            self._out.extend(data)
        os.write(self._wake_w, b"w")

    def stop(self):
        self._stopping = True
        os.write(self._wake_w, b"q")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if os.path.islink(self.link):
            os.unlink(self.link)

    def _run(self):
        while not self._stopping:
            with self._lock:
                want_write = bool(self._out)
            writers = [self._master] if want_write else []
            readable, writable, _ = select.select([self._master, self._wake_r], writers, [], 1.0)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if self._master in readable:
                try:
                    data = os.read(self._master, 4096)
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data:
                    self.on_bytes(data)
            if self._master in writable:
                with self._lock:
                    try:
                        n = os.write(self._master, bytes(self._out))
                    except BlockingIOError:
                        n = 0
                    del self._out[:n]
