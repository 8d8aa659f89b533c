"""A whole simulated branch: a private broker, a modem and a panel on pseudo-terminals, a
head-office subscriber, and the real `branchline run` as a child process.

The demo tells its story with it and the integration tests assert every step through it.
Everything it observes lands in one timeline with times relative to the start.
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import paho.mqtt.client as paho

from branchline import passwords
from branchline.core import journal, snapshot
from branchline.log import parse_line
from host_tools.broker import Broker, free_port
from host_tools.children import die_with_parent
from host_tools.modem_sim import ModemSim
from host_tools.panel_sim import PanelSim

SITE = "demo-branch"
DEVICE = "bl-0001"


# The simulated branch's console users: user -> (role, desk, password). The demo prints
# them so a newcomer can log in; nothing real is ever protected by them.
USERS = {
    "amira": ("agent", 1, "amira-desk-1"),
    "bo": ("agent", 2, "bo-desk-2"),
    "sam": ("supervisor", None, "sam-supervisor"),
    "tech": ("technician", None, "tech-check-1"),
}
_HASHES = {}  # password -> its hash, made once per process (each takes ~50 ms)


def console_users(users=USERS):
    out = []
    for user, (role, desk, password) in sorted(users.items()):
        if password not in _HASHES:
            _HASHES[password] = passwords.make(password)
        doc = {"user": user, "name": user.capitalize(), "role": role,
               "password": _HASHES[password]}
        if desk is not None:
            doc["desk"] = desk
        out.append(doc)
    return out


class StepFailed(AssertionError):
    pass


def default_config(workdir, mqtt_port, console_port, modem_ids=("m0",),
                   console_host="127.0.0.1"):
    return {
        "site": SITE,
        "device": DEVICE,
        "config_version": 1,
        "state_dir": os.path.join(workdir, "state"),
        "modems": [
            {"id": m, "port": os.path.join(workdir, "modem-" + m), "baud": 115200}
            for m in modem_ids
        ],
        "panel": {"port": os.path.join(workdir, "panel"), "baud": 115200},
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "keepalive": 10},
        "console": {"host": console_host, "port": console_port, "users": console_users()},
        "queues": [
            {"name": "general", "keywords": []},
            {"name": "accounts", "keywords": ["account", "balance", "账户", "余额"]},
        ],
        "desks": [
            {"desk": 1, "name": "Desk 1", "cap": 2, "queues": ["general", "accounts"]},
            {"desk": 2, "name": "Desk 2", "cap": 1, "queues": ["general"]},
        ],
        "metrics_interval_s": 1,
        "service_level_s": 40,
    }


class SimulatedBranch:
    def __init__(self, echo=None, workdir=None, config_overrides=None, modem_ids=("m0",),
                 modem_config=None, modem_options=None, console_host="127.0.0.1",
                 console_port=None):
        """`modem_config` adds keys to every modem's configuration (e.g. direct=True);
        `modem_options` are ModemSim keyword arguments (faults, timings, model)."""
        self.echo = echo  # called with each timeline line as it happens (the demo prints)
        self.own_dir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="bl-branch-")
        os.makedirs(self.workdir, exist_ok=True)
        self.t0 = time.monotonic()
        self.timeline = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.gateway_events = []  # parsed log lines of the current gateway process
        self.mqtt_messages = []  # (topic, payload dict)
        self.broker = Broker()
        self.console_port = console_port or free_port()
        self.console_host = console_host
        self.config = default_config(self.workdir, self.broker.port, self.console_port,
                                     modem_ids, console_host)
        self.config.update(config_overrides or {})
        # The state folder exists before the first start, as an installer makes it.
        os.makedirs(os.path.join(self.workdir, "state"), exist_ok=True)
        for m in self.config["modems"]:
            m.update(modem_config or {})
        self.modems = {}
        for i, m in enumerate(self.config["modems"]):
            source = "modem" if i == 0 else "modem:" + m["id"]
            self.modems[m["id"]] = ModemSim(
                m["port"], on_log=self._logger(source), **(modem_options or {})
            )
        self.modem = self.modems[self.config["modems"][0]["id"]]
        self.panel = PanelSim(self.config["panel"]["port"], desks=2, on_log=self._logger("panel"))
        self.gateway = None
        self.gateway_env = None  # the gateway's environment (None: ours)
        self.hq = None
        self._sessions = {}  # console user -> (cookie, CSRF token)

    # -- timeline ----------------------------------------------------------------------
    def note(self, source, text):
        line = "[%7.3fs] %-8s %s" % (time.monotonic() - self.t0, source, text)
        with self._cond:
            self.timeline.append(line)
            if self.echo:
                self.echo(line)  # under the lock, so lines from threads never interleave
            self._cond.notify_all()

    def _logger(self, source):
        return lambda text: self.note(source, text)

    def wait_for(self, what, predicate, timeout=15.0):
        """Wait until predicate() is true (re-checked whenever anything is observed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StepFailed("timed out waiting for: %s" % what)
                self._cond.wait(min(left, 0.1))

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, gateway=True):
        self.broker.start()
        self.note("broker", "mosquitto listening on 127.0.0.1:%d" % self.broker.port)
        for modem_id, sim in self.modems.items():
            sim.start()
            self.note("modem", "simulated modem %s on %s" % (modem_id, sim.link))
        self.panel.start()
        self.note("panel", "simulated button panel on %s" % self.panel.link)
        self._start_hq()
        if gateway:
            self.start_gateway()
        return self

    def write_config(self):
        """The configuration as `branchline run --config` reads it: -> its path."""
        path = os.path.join(self.workdir, "config.json")
        with open(path, "w") as f:
            json.dump(self.config, f, indent=2, ensure_ascii=False)
        return path

    def gateway_command(self):
        return self.gateway_command_for(self.write_config())

    @staticmethod
    def gateway_command_for(config_path):
        return [sys.executable, "-m", "branchline.ports.cpython.cli", "run", "--config",
                config_path]

    def start_gateway(self, wait=True):
        """Start `branchline run`; with wait, return once its modems are ready (tests that
        kill it at any moment, start-up included, do not wait)."""
        command = self.gateway_command()
        with self._cond:
            self.gateway_events = []
        self.gateway = subprocess.Popen(
            command,
            preexec_fn=die_with_parent(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            env=self.gateway_env,
        )
        threading.Thread(target=self._follow_gateway, args=(self.gateway,), daemon=True).start()
        if not wait:
            return
        proc = self.gateway

        def up():
            if proc.poll() is not None:
                raise StepFailed("gateway exited with code %s while starting" % proc.returncode)
            ready = len({e["modem"] for e in self.gateway_has("modem_ready")}) >= len(self.modems)
            return ready and self.gateway_has("console_listening")

        self.wait_for("gateway started and modem ready", up)

    def _follow_gateway(self, proc):
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            fields = parse_line(line)
            if "event" not in fields:
                self.note("gateway", line)
                continue
            with self._cond:
                if proc is self.gateway:  # not a late line from a process we replaced
                    self.gateway_events.append(fields)
                self._cond.notify_all()
            shown = " ".join("%s=%s" % kv for kv in fields.items() if kv[0] not in ("ts", "level"))
            self.note("gateway", shown)

    def stop_gateway(self, timeout=10.0):
        if self.gateway is None:
            return None
        if self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGTERM)
            try:
                self.gateway.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
                self.gateway.wait()
        rc = self.gateway.returncode
        self.gateway = None
        return rc

    def kill_gateway(self):
        self.gateway.kill()
        self.gateway.wait()
        self.gateway = None

    def _start_hq(self):
        # A persistent session, like head office's collector: nothing published while it
        # is away (say, the broker restarted) is lost to it.
        self.hq = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id="hq-observer", clean_session=False
        )
        connected = threading.Event()

        def on_connect(client, userdata, flags, reason_code, properties):
            client.subscribe("bl/v1/#", qos=1)
            connected.set()

        def on_message(client, userdata, msg):
            try:
                payload = json.loads(msg.payload)
            except ValueError:
                payload = {"_raw": msg.payload.decode("utf-8", "replace")}
            with self._cond:
                self.mqtt_messages.append((msg.topic, payload))
                self._cond.notify_all()
            self.note("hq", "%s %s" % (msg.topic, _summary(payload)))

        self.hq.on_connect = on_connect
        self.hq.on_message = on_message
        self.hq.connect("127.0.0.1", self.broker.port)
        self.hq.loop_start()
        if not connected.wait(10):
            raise StepFailed("head-office subscriber could not connect")

    def close(self):
        self.stop_gateway()
        if self.hq is not None:
            self.hq.loop_stop()
            self.hq.disconnect()
        self.panel.stop()
        for sim in self.modems.values():
            sim.stop()
        self.broker.close()
        if self.own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- observations ------------------------------------------------------------------
    def gateway_has(self, event, **match):
        return [e for e in self.gateway_events
                if e.get("event") == event and all(e.get(k) == str(v) for k, v in match.items())]

    def journal_events(self):
        """The gateway's whole journal as it is on disk now: the intact records of the
        archived segments (compaction moved them there) and the live ones, in order."""
        state = self.config["state_dir"]
        archive = os.path.join(state, snapshot.ARCHIVE_DIR)
        paths = []
        if os.path.isdir(archive):
            paths += [(n, os.path.join(archive, f))
                      for _until, n, f in snapshot.archive_listing(os.listdir(archive))]
        _, segments = snapshot.listing(os.listdir(state))
        paths += [(n, os.path.join(state, snapshot.name(snapshot.SEGMENT_PREFIX, n)))
                  for n in segments]
        events = []
        for _n, path in sorted(paths):
            with open(path, "rb") as f:
                events.extend(journal.scan(f.read())[0])
        return events

    def mqtt(self, kind):
        suffix = "/" + kind
        return [p for t, p in self.mqtt_messages if t.endswith(suffix)]

    # -- the console, as an agent's browser would use it -------------------------------
    @property
    def console_url(self):
        host = "127.0.0.1" if self.console_host in ("0.0.0.0", "::") else self.console_host
        scheme = "https" if self.config["console"].get("tls") else "http"
        return "%s://%s:%d" % (scheme, host, self.console_port)

    def _request(self, method, path, body, headers):
        data = None if body is None else json.dumps(body).encode()
        headers = dict(headers, **{"Content-Type": "application/json"})
        req = urllib.request.Request(self.console_url + path, data=data, method=method,
                                     headers=headers)
        # A test certificate is self-signed: no chain to check it against.
        context = ssl._create_unverified_context() if self.console_url[:6] == "https:" else None
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as resp:
                return resp.status, resp.headers, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, e.headers, json.loads(e.read() or b"{}")

    def login(self, user, password=None):
        """-> (cookie header value, CSRF token) of a new session for `user` (one of
        USERS unless its password is given)."""
        status, headers, doc = self._request(
            "POST", "/api/login", {"user": user, "password": password or USERS[user][2]}, {})
        if status != 200:
            raise StepFailed("login as %s refused: %s %s" % (user, status, doc))
        cookie = headers["Set-Cookie"].split(";")[0]
        self._sessions[user] = (cookie, doc["csrf"])
        return self._sessions[user]

    def console(self, method, path, body=None, user="sam"):
        """One request as `user` (the supervisor unless said), logged in once."""
        if user not in self._sessions:
            self.login(user)
        cookie, csrf = self._sessions[user]
        status, _, doc = self._request(method, path, body,
                                       {"Cookie": cookie, "X-CSRF-Token": csrf})
        return status, doc



def per_mille(value):
    """812 -> '81.2%' (figures are integers on the wire); '-' when undefined."""
    return "-" if value is None else "%d.%d%%" % (value // 10, value % 10)


def seconds(ms):
    return "-" if ms is None else "%d.%03ds" % (ms // 1000, ms % 1000)


def _summary(payload):
    """What head office would look at first in a message, on one line."""
    if "session" in payload:
        s = payload["session"]
        return "id=%s conversation=%s queue=%s desk=%s messages=%d outcome=%s" % (
            payload["id"], s["id"], s["queue"], s["desk"], len(s["messages"]), s["outcome"])
    if "metrics" in payload:
        m = payload["metrics"]["day"]["all"]
        return "id=%s today: offered=%s answered=%s handled=%s SL=%s ASA=%s" % (
            payload["id"], m["offered"], m["answered"], m["handled"],
            per_mille(m["service_level_pm"]), seconds(m["asa_ms"]))
    if "interval" in payload:
        m = payload["interval"]["interval"]["all"]
        return "id=%s interval ended: offered=%s answered=%s SL=%s" % (
            payload["id"], m["offered"], m["answered"], per_mille(m["service_level_pm"]))
    return json.dumps(payload, ensure_ascii=False)
