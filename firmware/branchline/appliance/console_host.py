"""What the console application (branchline.web.app) asks of its host, on either
runtime: the gateway's core, history and event path, and its files in the state folder
(the secret that signs session cookies, the accounts users changed, the audit log).

A port subclasses ConsoleHost with submit(event) (an awaitable of the effects, raising
branch.Rejected), run_blocking(function, *args) (awaitable), start() and stop().
"""

import json

from branchline.core import jsonfmt
from branchline.web.app import Console

SECRET_FILE = "console_secret"  # signs session cookies: 32 random bytes, made once
ACCOUNTS_FILE = "console_accounts.json"  # passwords and languages users changed
AUDIT_FILE = "audit.log"  # who did what, one JSON line each


def _secret(fs, path, random_bytes):
    if fs.exists(path):
        secret = fs.read(path)
        if len(secret) >= 32:
            return secret
    secret = random_bytes(32)
    fs.write_durably(path, secret)
    return secret


def _saved_accounts(fs, path, log):
    if not fs.exists(path):
        return {}
    try:
        doc = json.loads(fs.read(path))
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError) as e:
        log.error("console_accounts_unreadable", path=path, reason=str(e))
        return {}


class ConsoleHost:
    def __init__(self, gateway, fs, state_path, random_bytes, audit_max_bytes, tls=False):
        """`audit_max_bytes`: then audit.log becomes audit.log.1 (one older file kept)."""
        self.gateway = gateway
        self.fs = fs
        self.cfg = gateway.cfg
        self.log = gateway.log
        self.secret_path = fs.join(state_path, SECRET_FILE)
        self._accounts_path = fs.join(state_path, ACCOUNTS_FILE)
        self._audit_path = fs.join(state_path, AUDIT_FILE)
        self._audit_max = audit_max_bytes
        self._audit_bytes = fs.size(self._audit_path) if fs.exists(self._audit_path) else 0
        self.console = Console(self, _secret(fs, self.secret_path, random_bytes),
                               _saved_accounts(fs, self._accounts_path, self.log),
                               gateway.now_ms, random_bytes, gateway.boot_count, tls=tls)
        # The gateway's event path tells the pages what changed.
        self.changed = self.console.changed
        self.publish = self.console.publish

    @property
    def core(self):
        return self.gateway.core

    @property
    def history(self):
        return self.gateway.history

    def save_accounts(self, doc):
        self.fs.write_durably(self._accounts_path, jsonfmt.encode(doc))

    def audit(self, record):
        line = jsonfmt.encode(record) + b"\n"
        try:
            if self._audit_bytes and self._audit_bytes + len(line) > self._audit_max:
                self.fs.rename(self._audit_path, self._audit_path + ".1")
                self._audit_bytes = 0
            with open(self._audit_path, "ab") as f:
                f.write(line)
            self._audit_bytes += len(line)
        except OSError as e:
            self.log.error("audit_write_failed", reason=getattr(e, "strerror", None) or str(e))
        if not record["ok"]:
            self.log.warn("console_refused", user=record["user"], action=record["action"],
                          detail=record["detail"])
