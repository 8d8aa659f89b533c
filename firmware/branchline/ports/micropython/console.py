"""The console on MicroPython: the portable microdot application (branchline.web)
served by microdot's own asyncio server. There is no thread, so a password check runs
in the loop (its iterations are the price of a login here). The pages and assets are
on the flash at STATIC, where `make firmware` puts them (frozen modules have no folder
of their own to look beside).
"""

import asyncio
import os

from branchline.appliance.console_host import ConsoleHost as PortableHost
from branchline.ports.micropython import files
from branchline.web import pages

AUDIT_MAX_BYTES = 256 * 1024
STATIC = "static"  # relative to the flash's root, the working folder at boot
STOP_TIMEOUT_S = 2


class ConsoleHost(PortableHost):
    """The console's host on MicroPython."""

    def __init__(self, gateway, state_path):
        pages.STATIC = STATIC
        PortableHost.__init__(self, gateway, files, state_path, os.urandom, AUDIT_MAX_BYTES)
        self.server = None  # the task serving the console

    async def submit(self, event):
        """The event's effects once applied; raises the Rejected that refused it."""
        done = asyncio.Event()
        outcome = [None, None]

        def finished(effects, error):
            outcome[0] = effects
            outcome[1] = error
            done.set()

        self.gateway.submit(event, done=finished)
        await done.wait()
        if outcome[1] is not None:
            raise outcome[1]
        return outcome[0]

    async def run_blocking(self, function, *args):
        return function(*args)

    async def start(self):
        cfg = self.cfg["console"]
        host = cfg.get("host", "0.0.0.0")
        self.server = asyncio.create_task(self.console.app.start_server(
            host=host, port=cfg["port"]))
        self.log.info("console_listening", url="http://%s:%d" % (host, cfg["port"]))

    async def stop(self):
        self.console.app.shutdown()
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server, STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                pass
