"""The console on CPython: the portable microdot application (branchline.web) served
on the socket startup.bind_console claimed, over TLS when console.tls names a
certificate, with what the application needs from this runtime: a thread for password
checks, and its secret, accounts and audit log in the state folder.
"""

import asyncio
import json
import os
import ssl
from types import MethodType

from branchline.core import jsonfmt
from branchline.ports.cpython.clock import now_ms
from branchline.ports.cpython.files import write_durably
from branchline.ports.cpython.startup import StartupError
from branchline.web.app import Console

SECRET_FILE = "console_secret"  # signs session cookies: 32 random bytes, made once
ACCOUNTS_FILE = "console_accounts.json"  # passwords and languages users changed
AUDIT_FILE = "audit.log"  # who did what, one JSON line each
AUDIT_MAX_BYTES = 4 * 1024 * 1024  # then it becomes audit.log.1 (one older file kept)


def _secret(path):
    try:
        with open(path, "rb") as f:
            secret = f.read()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    secret = os.urandom(32)
    write_durably(path, secret)
    os.chmod(path, 0o600)
    return secret


def _saved_accounts(path, log):
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
        return doc if isinstance(doc, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.error("console_accounts_unreadable", path=path, reason=str(e))
        return {}


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


class ConsoleHost:
    """What branch.web's Console asks of its host, on CPython."""

    def __init__(self, gateway, state_dir):
        self.gateway = gateway
        self.cfg = gateway.cfg
        self.log = gateway.log
        self._accounts_path = state_dir.join(ACCOUNTS_FILE)
        self._audit_path = state_dir.join(AUDIT_FILE)
        try:
            self._audit_bytes = os.path.getsize(self._audit_path)
        except OSError:
            self._audit_bytes = 0
        self.tls = tls_context(self.cfg["console"].get("tls"))
        self.console = Console(self, _secret(state_dir.join(SECRET_FILE)),
                               _saved_accounts(self._accounts_path, self.log), now_ms,
                               os.urandom, gateway.boot_count, tls=self.tls is not None)
        # The gateway's event path tells the pages what changed.
        self.changed = self.console.changed
        self.publish = self.console.publish

    @property
    def core(self):
        return self.gateway.core

    @property
    def history(self):
        return self.gateway.history

    def submit(self, event):
        """-> a future of the event's effects, or of the Rejected error."""
        fut = self.gateway.loop.create_future()

        def done(effects, error):
            if error is None:
                fut.set_result(effects)
            else:
                fut.set_exception(error)
                fut.exception()  # a caller that does not await still must not warn

        self.gateway.submit(event, done=done)
        return fut

    async def run_blocking(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    def save_accounts(self, doc):
        write_durably(self._accounts_path, jsonfmt.encode(doc))

    def audit(self, record):
        line = jsonfmt.encode(record) + b"\n"
        try:
            if self._audit_bytes and self._audit_bytes + len(line) > AUDIT_MAX_BYTES:
                os.replace(self._audit_path, self._audit_path + ".1")
                self._audit_bytes = 0
            with open(self._audit_path, "ab") as f:
                f.write(line)
            self._audit_bytes += len(line)
        except OSError as e:
            self.log.error("audit_write_failed", reason=e.strerror or str(e))
        if not record["ok"]:
            self.log.warn("console_refused", user=record["user"], action=record["action"],
                          detail=record["detail"])

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
