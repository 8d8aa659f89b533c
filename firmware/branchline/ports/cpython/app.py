"""The appliance on CPython: appliance/gateway.py's event path in one asyncio loop, with
this runtime's I/O: pyserial links, the POSIX state folder (fsync in a thread, so the
serial lines keep flowing), SQLite for the history, paho-mqtt for head office, the
console's server, and SIGINT/SIGTERM for a clean stop.
"""

import asyncio
import signal

from branchline.appliance.gateway import Gateway as PortableGateway
from branchline.appliance.gateway import run_steps
from branchline.appliance.store import Store, count_boot
from branchline.core.config import DEFAULTS
from branchline.ports.cpython import files
from branchline.ports.cpython.clock import now_ms
from branchline.ports.cpython.console import ConsoleHost
from branchline.ports.cpython.history_feed import history
from branchline.ports.cpython.mqtt import Uplink
from branchline.ports.cpython.serial_link import SerialLink


class Gateway(PortableGateway):
    def __init__(self, cfg, log, state_dir, console_socket):
        """`state_dir` (a startup.StateDir) and `console_socket` were claimed already:
        nothing here opens a port or a connection."""
        self.loop = None
        PortableGateway.__init__(
            self, cfg, log, open_store(state_dir, log, cfg["retention_days"]),
            history(cfg, state_dir.path, log), count_boot(files, state_dir.join("boot_count")))
        self.console_socket = console_socket
        self.console = ConsoleHost(self, state_dir)
        self._stopped = None

    now_ms = staticmethod(now_ms)

    async def blocking(self, function, *args):
        return await self.loop.run_in_executor(None, function, *args)

    async def job(self, steps):
        return await self.loop.run_in_executor(None, run_steps, steps)

    def later(self, delay_s, function):
        return self.loop.call_later(delay_s, function)

    def link(self, name, cfg, on_data, on_open, on_lost):
        return SerialLink(self.loop, cfg["port"], int(cfg.get("baud", 115200)), on_data,
                          on_open, on_lost, self.log, name, rs485=cfg.get("rs485", False))

    def make_uplink(self):
        return Uplink(self.cfg.get("mqtt", {}), self.cfg["site"], self.cfg["device"],
                      self.loop, self.on_uplink_ack, self.log, now_ms, self.boot_count,
                      self.cfg.get("config_version", 0))

    async def start_serving(self):
        await self.console.start(self.console_socket)

    async def stop_serving(self):
        await self.console.stop()

    def stop(self):
        self._stopped.set()

    async def wait_stopped(self):
        await self._stopped.wait()

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self._stopped.set)
        await PortableGateway.run(self)


def open_store(state_dir, log, retention_days=DEFAULTS["retention_days"]):
    """The state folder `state_dir` (a startup.StateDir) on this file system."""
    return Store(files, state_dir.path, log, now_ms, retention_days)

