"""The console on CPython: the portable microdot application (branchline.web) served
on the socket startup.bind_console claimed, over TLS when console.tls names a
certificate, with what the application needs from this runtime: a thread for password
checks, and its secret, accounts and audit log in the state folder.
"""

import asyncio
import os
import ssl
from types import MethodType

from branchline.appliance.console_host import ConsoleHost as PortableHost
from branchline.ports.cpython import files
from branchline.ports.cpython.startup import StartupError

AUDIT_MAX_BYTES = 4 * 1024 * 1024


def tls_context(tls):
    """The server's TLS context from console.tls {"cert", "key"}, or None."""
    if not tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(tls["cert"], tls["key"])
    except (OSError, ssl.SSLError) as e:
        raise StartupError("console.tls: cannot load %s / %s (%s)" % (
            tls["cert"], tls["key"], getattr(e, "strerror", None) or e))
    return context


class ConsoleHost(PortableHost):
    """The console's host on CPython."""

    def __init__(self, gateway, state_dir):
        self.tls = tls_context(gateway.cfg["console"].get("tls"))
        PortableHost.__init__(self, gateway, files, state_dir.path, os.urandom,
                              AUDIT_MAX_BYTES, tls=self.tls is not None)
        os.chmod(self.secret_path, 0o600)

    def submit(self, event):
        """-> a future of the event's effects, or of the Rejected error."""
        fut = self.gateway.loop.create_future()

        def done(effects, error):
            if fut.done():  # the request went away (cancelled) meanwhile
                return
            if error is None:
                fut.set_result(effects)
            else:
                fut.set_exception(error)
                fut.exception()  # a caller that does not await still must not warn

        self.gateway.submit(event, done=done)
        return fut

    async def run_blocking(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def start(self, sock):
        """Serve on `sock` until stop()."""
        app = self.console.app

        async def serve(reader, writer):
            # microdot's own server adds these two to CPython's stream writer.
            async def awrite(self, data):
                self.write(data)
                await self.drain()

            async def aclose(self):
                self.close()
                await self.wait_closed()

            writer.awrite = MethodType(awrite, writer)
            writer.aclose = MethodType(aclose, writer)
            try:
                await app.handle_request(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                writer.close()  # the client went (or spoke no TLS): nothing to answer

        self._server = await asyncio.start_server(serve, sock=sock, ssl=self.tls,
                                                  limit=64 * 1024)
        host, port = sock.getsockname()[:2]
        shown = "[%s]" % host if ":" in host else host  # an IPv6 address in a URL
        self.log.info("console_listening", url="%s://%s:%d" % (
            "https" if self.tls else "http", shown, port))

    async def stop(self):
        self._server.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2)
        except asyncio.TimeoutError:
            pass  # a page's event stream: it reconnects to the next start
