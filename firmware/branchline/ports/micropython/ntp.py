"""The board's clock from NTP (proto/sntp.py over UDP): a first sync as soon as the
network answers, then every SYNC_EVERY_S; a failure is logged and tried again after
RETRY_S. The answer is awaited without blocking the loop (a non-blocking socket polled
every POLL_MS, for at most TIMEOUT_MS). The name is resolved each time (getaddrinfo
blocks, briefly, as mqtt_as's own lookup does).

A step sets the clock (clock.set_now); the gateway never stamps an event earlier than
the one before, so a clock set back does not run the journal backwards.
"""

import asyncio
import select
import socket

from branchline.ports.micropython import clock
from branchline.proto import sntp

SYNC_EVERY_S = 6 * 3600
RETRY_S = 60
TIMEOUT_MS = 3000
POLL_MS = 20
DEFAULT_HOST = "pool.ntp.org"


class Ntp:
    def __init__(self, cfg, log):
        self.host = cfg.get("host", DEFAULT_HOST)
        self.port = cfg.get("port", sntp.PORT)
        self.log = log
        self.task = None

    def start(self):
        self.task = asyncio.create_task(self._run())

    def stop(self):
        if self.task is not None:
            self.task.cancel()

    async def _run(self):
        while True:
            try:
                step = await self.sync()
                self.log.info("clock_set", server=self.host, step_ms=step)
                wait = SYNC_EVERY_S
            except (OSError, sntp.SntpError) as e:
                self.log.warn("ntp_failed", server=self.host, reason=str(e))
                wait = RETRY_S
            await asyncio.sleep(wait)

    async def sync(self):
        """Ask the server once and set the clock; -> the step (ms)."""
        address = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_DGRAM)[0][-1]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setblocking(False)
            poller = select.poll()
            poller.register(s, select.POLLIN)
            t1 = clock.now_ms()
            s.sendto(sntp.request(t1), address)
            while not poller.poll(0):
                if clock.now_ms() - t1 > TIMEOUT_MS:
                    raise OSError("no answer in %d ms" % TIMEOUT_MS)
                await asyncio.sleep_ms(POLL_MS)
            answer = s.recv(sntp.SIZE * 2)
            t4 = clock.now_ms()
        finally:
            s.close()
        step = sntp.offset(answer, t1, t4)
        clock.set_now(clock.now_ms() + step)
        return step
