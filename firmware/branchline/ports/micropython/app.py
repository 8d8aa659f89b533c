"""The appliance on MicroPython: appliance/gateway.py's event path with this runtime's
I/O: the board's UARTs (uart_link.py), littlefs for the state folder (files.py), btree
for the history, mqtt_as for head office, microdot's server for the console, the
hardware watchdog, and the RTC (kept ahead of the journal, set by NTP).

There is no thread: a journal append (a flash commit, a few ms) and a snapshot run in
the loop between two serial polls, which the UARTs' receive buffers ride out.
"""

import asyncio
import gc

from branchline import hardware
from branchline.appliance.gateway import Gateway as PortableGateway
from branchline.appliance.store import Store, count_boot
from branchline.ports.micropython import clock, files
from branchline.ports.micropython.console import ConsoleHost
from branchline.ports.micropython.history import history
from branchline.ports.micropython.mqtt import Uplink
from branchline.ports.micropython.ntp import Ntp
from branchline.ports.micropython.timer import call_later
from branchline.ports.micropython.uart_link import UartLink
from branchline.ports.micropython.watchdog import Watchdog

BOOT_COUNT_FILE = "boot_count"


class Gateway(PortableGateway):
    def __init__(self, cfg, board, log):
        """`cfg` validated, made for `board` (its ports are checked here)."""
        self.board = board
        hardware.check_storage(cfg, board)
        self.uarts = {}
        for _, section, uart in hardware.serial_ports(cfg, board):
            self.uarts[section["port"]] = uart
        state = cfg["state_dir"]
        files.makedirs(state)
        PortableGateway.__init__(self, cfg, log,
                                 Store(files, state, log, clock.now_ms, cfg["retention_days"]),
                                 history(cfg, state, log),
                                 count_boot(files, files.join(state, BOOT_COUNT_FILE)))
        self.console = ConsoleHost(self, state)
        self.watchdog = Watchdog(log)
        self.ntp = Ntp(cfg.get("ntp", {}), log)
        self._stopped = asyncio.Event()
        self.heap_peak = 0  # the most the heap held after a collection (bytes)
        self._heap_logged = 0

    now_ms = staticmethod(clock.now_ms)

    async def blocking(self, function, *args):
        return function(*args)

    async def job(self, steps):
        # A step at a time: the serial lines, the console and the watchdog's ticker run
        # between them (a rebuild in one go would outlast the WDT's timeout).
        try:
            while True:
                next(steps)
                await asyncio.sleep_ms(0)
        except StopIteration as e:
            return e.value

    def later(self, delay_s, function):
        return call_later(delay_s, function)

    def link(self, name, cfg, on_data, on_open, on_lost):
        uart = self.uarts[cfg["port"]]
        return UartLink(name, uart, int(cfg.get("baud", uart.get("baud", 115200))), on_data,
                        on_open, on_lost, self.log)

    def make_uplink(self):
        return Uplink(self.cfg.get("mqtt", {}), self.cfg.get("wifi", {}), self.cfg["site"],
                      self.cfg["device"], self.on_uplink_ack, self.log, clock.now_ms,
                      self.boot_count, self.cfg.get("config_version", 0))

    def replay(self):
        PortableGateway.replay(self)
        clock.not_before(self.core.now)

    def housekeeping(self, t, state):
        self.watchdog.beat()
        PortableGateway.housekeeping(self, t, state)
        # A collection each tick keeps the heap from fragmenting into pieces too small
        # for the next JSON document; what survives it is the live heap.
        gc.collect()
        live = gc.mem_alloc()
        if live > self.heap_peak:
            self.heap_peak = live
        if t - self._heap_logged >= self.cfg["metrics_interval_s"] * 1000:
            self._heap_logged = t
            self.log.info("heap", live=live, free=gc.mem_free(), peak=self.heap_peak)

    async def start_serving(self):
        await self.console.start()
        self.ntp.start()
        # The last step of starting: from here on, the watchdog needs all of it alive.
        self.watchdog.watch("console", lambda: self.console.server)
        self.watchdog.watch("uplink", lambda: self.uplink.sender)
        self.watchdog.watch("ntp", lambda: self.ntp.task)
        links = [m.link for m in self.modems.ports.values()]
        if self.panel is not None:
            links.append(self.panel.link)
        for link in links:
            self.watchdog.watch(link.name, lambda link=link: link.reader)
        self.watchdog.start()

    async def stop_serving(self):
        self.watchdog.stop()
        self.ntp.stop()
        await self.console.stop()

    def stop(self):
        self._stopped.set()

    async def wait_stopped(self):
        await self._stopped.wait()

