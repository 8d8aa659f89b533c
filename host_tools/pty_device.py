"""A simulated serial device on a pseudo-terminal, reachable at a stable path (a symlink to
the pty's slave side, as `socat PTY,link=...` makes), so drivers open it like hardware.

Subclasses implement `on_bytes(data)` and call `write(data)`; one I/O thread moves the
bytes and runs the timers set with `call_later`, so a subclass's callbacks never race
each other. A pty has no baud rate: with `baud` set, bytes move in both directions no
faster than a real 8N1 line would carry them (`baud / 10` bytes per second).
"""

import abc
import collections
import heapq
import itertools
import os
import select
import threading
import time
import traceback
import tty

# Token buckets hold at most this much line time: enough to ride out a late wake-up of
# the I/O thread without losing throughput, small enough that bursts stay invisible.
_BUCKET_S = 0.008


class TokenBucket:
    """Bytes a line of `baud` may carry, refilled continuously from the monotonic clock."""

    def __init__(self, baud):
        self.rate = baud / 10.0 if baud else None
        self.capacity = max(1.0, self.rate * _BUCKET_S) if self.rate else None
        self._tokens = self.capacity
        self._at = time.monotonic()

    def available(self, now):
        if self.rate is None:
            return 1 << 20
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self._tokens)

    def take(self, n):
        if self.rate is not None:
            self._tokens -= n

    def wait(self, want, now):
        """Seconds until `want` bytes (at most half a bucket, so a late wake loses nothing)."""
        if self.rate is None:
            return 0.0
        want = min(want, max(1.0, self.capacity / 2))
        return max(0.0, (want - self.available(now)) / self.rate)


class Timer:
    __slots__ = ("fn", "cancelled")

    def __init__(self, fn):
        self.fn = fn
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class PtyDevice(abc.ABC):
    def __init__(self, link, baud=None):
        self.link = os.path.abspath(link)
        self.baud = baud
        self.errors = []  # exceptions raised by callbacks (the I/O thread survives them)
        self._master = None
        self._slave = None
        self._thread = None
        self._wake_r, self._wake_w = os.pipe()
        self._out = collections.deque()  # [release time, bytearray], written in order
        self._timers = []  # heap of (when, seq, Timer)
        self._seq = itertools.count()
        self._lock = threading.Lock()  # guards _out and _timers; never held in callbacks
        self._stopping = False
        self._tx = TokenBucket(baud)
        self._rx = TokenBucket(baud)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self):
        self._open()
        self._thread = threading.Thread(target=self._run, name="pty:" + self.link, daemon=True)
        self._thread.start()
        self.on_start()
        return self

    def on_start(self):
        """Hook: the port exists (a panel announces itself here)."""

    @abc.abstractmethod
    def on_bytes(self, data):
        """What the device does with bytes the driver wrote (runs in the I/O thread)."""

    def stop(self):
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def vanish(self):
        """The port disappears (USB modem unplugged or re-enumerating): pty and link go."""
        self._in_io_thread(self._close)

    def reappear(self):
        """A new pty at the same link path, as after the device re-enumerates."""
        self._in_io_thread(self._open)

    def _open(self):
        if self._master is not None:
            return
        self._master, self._slave = os.openpty()
        # Raw mode on the slave so the line discipline does not echo or translate CR/LF:
        # the only echo the driver sees is the simulated device's own.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self._slave), self.link)

    def _close(self):
        if os.path.islink(self.link):
            os.unlink(self.link)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        with self._lock:
            self._out.clear()  # bytes still in the device's buffer die with the port

    # -- output and timers (any thread) ------------------------------------------------
    def write(self, data, delay=0.0):
        """Queue `data`; it goes out after `delay` seconds, behind everything queued before."""
        if self._master is None:
            return  # nobody can hear a port that is not there
        with self._lock:
            self._out.append([time.monotonic() + delay, bytearray(data)])
        self._wake()

    def call_later(self, delay, fn):
        """Run `fn()` on the I/O thread after `delay` seconds; returns a cancellable Timer."""
        timer = Timer(fn)
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), timer))
        self._wake()
        return timer

    def _in_io_thread(self, fn):
        """Run `fn` where it cannot race the I/O thread's select() on the same fds."""
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            fn()
            return
        done = threading.Event()

        def run():
            try:
                fn()
            finally:
                done.set()

        self.call_later(0, run)
        done.wait(5)

    def _wake(self):
        try:
            os.write(self._wake_w, b"w")
        except OSError:
            pass  # stopped: the wake pipe is closed and nobody waits on it

    # -- the I/O thread ----------------------------------------------------------------
    def _run(self):
        while not self._stopping:
            now = time.monotonic()
            self._run_due_timers(now)
            readers, writers, timeout = self._plan(time.monotonic())
            readable, writable, _ = select.select(readers, writers, [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            master = self._master
            if master is not None and master in readable:
                self._read(master)
            if master is not None and master in writable:
                self._write(master)

    def _run_due_timers(self, now):
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > now:
                    return
                timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                self._guarded(timer.fn)

    def _guarded(self, fn, *args):
        # A bug in a callback must not kill the thread (the device would go silent and
        # every test would fail with a timeout instead of the traceback).
        try:
            fn(*args)
        except Exception as e:
            self.errors.append(e)
            traceback.print_exc()

    def _plan(self, now):
        """-> (fds to read, fds to write, select timeout) given pacing, queue and timers."""
        timeout = 1.0
        with self._lock:
            if self._timers:
                timeout = min(timeout, self._timers[0][0] - now)
            head = self._out[0] if self._out else None
        readers = [self._wake_r]
        writers = []
        if self._master is None:
            return readers, writers, max(0.0, timeout)
        if self._rx.available(now) >= 1:
            readers.append(self._master)
        else:
            timeout = min(timeout, self._rx.wait(1, now))
        if head is not None:
            if head[0] > now:
                timeout = min(timeout, head[0] - now)
            elif self._tx.available(now) >= 1:
                writers.append(self._master)
            else:
                timeout = min(timeout, self._tx.wait(len(head[1]), now))
        return readers, writers, max(0.0, timeout)

    def _read(self, master):
        try:
            data = os.read(master, min(4096, self._rx.available(time.monotonic())))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # EIO while nobody holds the slave open: nothing to read
        self._rx.take(len(data))
        if data:
            self._guarded(self.on_bytes, data)

    def _write(self, master):
        now = time.monotonic()
        budget = self._tx.available(now)
        with self._lock:
            chunk = bytearray()
            while self._out and self._out[0][0] <= now and len(chunk) < budget:
                head = self._out[0][1]
                take = budget - len(chunk)
                chunk += head[:take]
                del head[:take]
                if not head:
                    self._out.popleft()
            try:
                n = os.write(master, chunk)
            except BlockingIOError:
                n = 0  # the reader is not keeping up; its pty buffer is full
            if n < len(chunk):
                self._out.appendleft([now, chunk[n:]])
        self._tx.take(n)
