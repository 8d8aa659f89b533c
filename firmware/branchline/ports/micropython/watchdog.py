"""The hardware watchdog, fed only while the appliance is whole.

Every task the appliance cannot do without (the event path's ticker, each serial
line's reader, the uplink, the console's server) is watched: the feeder feeds
machine.WDT every FEED_S while none of them has ended and the ticker has beaten within
STALL_MS. A task that died of a bug, or a loop stuck in a blocking call, stops the
feeding, and the WDT resets the board after its timeout: the journal brings everything
back. (A task that ends because the appliance is stopping stops the feeder first.)
"""

import asyncio
import time

import machine

FEED_S = 1
TIMEOUT_MS = 8000
STALL_MS = 5000


class Watchdog:
    def __init__(self, log, timeout_ms=TIMEOUT_MS):
        self.log = log
        self.timeout_ms = timeout_ms
        self.tasks = {}  # name -> a function giving the task that must not end (or None)
        self._beat = time.ticks_ms()
        self._wdt = None
        self._feeder = None
        self.starved = None  # why feeding stopped, once it has

    def watch(self, name, current):
        """`current()` is the task `name` runs now, or None while it has none (a serial
        line being reopened)."""
        self.tasks[name] = current

    def beat(self):
        """The ticker is alive."""
        self._beat = time.ticks_ms()

    def whole(self):
        """-> None, or what is wrong."""
        for name, current in self.tasks.items():
            task = current()
            if task is not None and task.done():
                return "task %s ended" % name
        if time.ticks_diff(time.ticks_ms(), self._beat) > STALL_MS:
            return "ticker stalled"
        return None

    def start(self):
        self._wdt = machine.WDT(timeout=self.timeout_ms)
        self._feeder = asyncio.create_task(self._feed())

    async def _feed(self):
        while True:
            wrong = self.whole()
            if wrong is None:
                self._wdt.feed()
            elif self.starved is None:
                self.starved = wrong
                self.log.error("watchdog_starved", reason=wrong, reset_in_ms=self.timeout_ms)
            await asyncio.sleep(FEED_S)

    def stop(self):
        if self._feeder is not None:
            self._feeder.cancel()
            self._feeder = None
