# The console application (branchline.web) driven through microdot's test client on
# whichever runtime runs this, with a real core and the runtime's history index
# (btree on MicroPython, SQLite on CPython): it prints each answer's status and body,
# and tests/unit/test_console_on_micropython.py holds the two runtimes' output equal.
import asyncio
import sys

from microdot.test_client import TestClient

sys.path.append(__file__.rsplit("/", 2)[0] + "/portable")
from check import counter_bytes  # noqa: E402

from branchline import passwords  # noqa: E402
from branchline.core import config, events
from branchline.core.branch import Branch, Rejected
from branchline.web.app import COOKIE, Console

try:
    from branchline.ports.micropython.history_btree import BtreeHistory as Index
except ImportError:
    from branchline.ports.cpython.history_sqlite import SqliteHistory as Index

T0 = 1796300000000
PASSWORD = "agent-password"
HASH = passwords.make(PASSWORD, iterations=1000, salt=b"fixed-salt-bytes")
CFG = config.validate({
    "site": "s1", "device": "d1", "modems": [{"id": "m0", "port": "/dev/null"}],
    "queues": [{"name": "general"}],
    "desks": [{"desk": 1, "cap": 2, "queues": ["general"]},
              {"desk": 2, "cap": 1, "queues": ["general"]}],
    "templates": [{"name": "hi", "text": "Hello from {desk_name}"}],
    "console": {"users": [
        {"user": "ana", "role": "agent", "desk": 1, "password": HASH},
        {"user": "bo", "role": "agent", "desk": 2, "password": HASH},
        {"user": "sam", "role": "supervisor", "password": HASH, "must_change": True}]},
})
clock = [T0]


class Log:
    def __init__(self):
        self.lines = []

    def _log(self, level, name, fields):
        self.lines.append((level, name))

    def info(self, name, **fields):
        self._log("info", name, fields)

    def warn(self, name, **fields):
        self._log("warn", name, fields)

    def error(self, name, **fields):
        self._log("error", name, fields)


class History:
    def __init__(self, index):
        self.index = index


class Host:
    """What the CPython and MicroPython adapters give the console, on one runtime."""

    def __init__(self, path):
        self.cfg = CFG
        self.core = Branch(CFG)
        self.log = Log()
        self.history = History(Index(path))
        self.saved = None
        self.audits = []
        self.console = None

    async def submit(self, event):
        self.core.check(event)
        effects = self.core.apply(event)
        self.history.index.feed(effects, self.core.events_applied)
        self.console.changed(event, effects)
        self.console.publish()
        return effects

    async def run_blocking(self, function, *args):
        return function(*args)

    def save_accounts(self, doc):
        self.saved = doc

    def audit(self, record):
        self.audits.append(record)


async def main(path):
    host = Host(path)
    host.console = Console(host, b"s" * 32, {}, lambda: clock[0], counter_bytes(), 1)
    client = TestClient(host.console.app)
    sessions = {}

    async def call(method, path, body=None, user=None, csrf=True, show=True, headers=None):
        headers = dict(headers or {})
        if user is not None:
            cookie, token = sessions[user]
            headers["Cookie"] = COOKIE + "=" + cookie
            if csrf:
                headers["X-CSRF-Token"] = token
        client.cookies = {}  # each request carries only the session it names
        if method == "GET":
            res = await client.get(path, headers=headers)
        else:
            res = await client.post(path, headers=headers, body=body if body is not None else {})
        if show:
            print(method, path, user, res.status_code, res.text if res.json is not None else
                  "%s %d bytes" % (res.headers.get("Content-Type"), len(res.body)))
        return res

    async def login(user, password=PASSWORD):
        res = await call("POST", "/api/login", {"user": user, "password": password})
        if res.status_code == 200:
            cookie = res.headers["Set-Cookie"][0].split(";")[0].split("=", 1)[1]
            sessions[user] = (cookie, res.json["csrf"])
        return res

    await call("GET", "/", headers={"Accept-Encoding": "gzip"})
    await call("GET", "/static/app.js", headers={"Accept-Encoding": "gzip"})
    await call("GET", "/static/app.js")
    await call("GET", "/static/secret.py", headers={"Accept-Encoding": "gzip"})
    await call("GET", "/api/me")
    await login("ana", "wrong")
    await login("ana")
    await login("bo")
    await call("GET", "/api/me", user="ana")
    clock[0] += 1000
    await host.submit(events.make("presence", clock[0], desk=1, state="available"))
    await host.submit(events.make("sms_in", clock[0], modem="m0", **{"from": "+447700900123",
                                                                    "text": "<b>hi</b> ☺"}))
    clock[0] += 500
    await call("GET", "/api/my", user="ana")
    await call("GET", "/api/conversations/1", user="ana")
    await call("GET", "/api/conversations/1", user="bo")
    await call("GET", "/api/conversations/1/templates", user="ana")
    await call("POST", "/api/conversations/1/reply", {"text": "forged"}, user="ana", csrf=False)
    await call("POST", "/api/conversations/1/reply", {"text": "Hello ☺"}, user="ana")
    await call("POST", "/api/conversations/1/reply", {"text": "x" * 2000}, user="ana")
    await call("POST", "/api/conversations/1/assign", {"desk": 2}, user="ana")
    await call("GET", "/api/board", user="bo")
    await call("GET", "/api/board/chart.svg", user="bo")
    await login("sam")
    await call("GET", "/api/queue", user="sam")  # first the password
    await call("POST", "/api/me/password", {"old": PASSWORD, "new": "a-new-password"}, user="sam")
    print("accounts saved:", sorted(host.saved), "audit:", [(a["user"], a["action"], a["ok"])
                                                            for a in host.audits])
    try:
        host.core.check(events.make("accept", clock[0], conv=9))
    except Rejected as e:
        print("rejected:", e)


asyncio.run(main(sys.argv[1]))
