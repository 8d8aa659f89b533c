"""The ESP32 edition (branchline.ports.micropython) as a simulated branch's gateway: the
image `make test` freezes into the 32-bit MicroPython unix port (with the C router and
btree), its journal on a littlefs over a file-backed block device, its UARTs on the
modem and panel simulators' pseudo-terminals through tests/micropython/shim/machine.py
(the unix port has no `machine`), head office on a real mosquitto.

From a checkout (the shim and the launcher are in tests/micropython/): the edition's
integration tests and `make bench` (its heap) use it.
"""

import glob
import json
import os
import subprocess

from host_tools.bench.heap import ESP32_LIMITS
from host_tools.sim_branch import SimulatedBranch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MP_TESTS = os.path.join(ROOT, "tests", "micropython")
BOARD = "esp32-wrover"
HEAP_KB = 512  # the tests' heap; the bench finds the smallest


def edition_port():
    """The unix port with the edition frozen in, and the image it was frozen from."""
    found = glob.glob(os.path.join(ROOT, "build", "mp-*", "*", "ports", "unix",
                                   "build-32-edition", "micropython"))
    image = os.path.join(ROOT, "build", "firmware", "unix-edition")
    if not found or not os.path.isdir(image):
        return None, None
    return found[0], image


class Esp32Branch(SimulatedBranch):
    """A simulated branch whose gateway is the ESP32 edition under the unix port."""

    def __init__(self, binary, image, heap_kb=HEAP_KB, **kwargs):
        SimulatedBranch.__init__(self, **kwargs)
        self.binary = binary
        self.image = image
        self.heap_kb = heap_kb
        self.flash = os.path.join(self.workdir, "flash.bin")
        self.wdt = os.path.join(self.workdir, "wdt.log")
        modem = self.config["modems"][0]
        uarts = {}
        with open(os.path.join(image, "fs", "board.json")) as f:
            board = json.load(f)
        for section, name in ((modem, "modem1"), (self.config["panel"], "panel")):
            uarts[board["uarts"][name]["id"]] = section["port"]  # the simulator's pty
            section["port"] = name
        # Sized for an ESP32 (docs/memory.md), the console's password hashes cheap
        # enough for a login in the loop.
        self.config.update(ESP32_LIMITS, board=BOARD, state_dir="state", disk_ceiling_mb=1)
        self.gateway_env = dict(
            os.environ, BL_WDT=self.wdt,
            BL_UARTS=",".join("%d=%s" % kv for kv in sorted(uarts.items())),
            MICROPYPATH=".frozen:%s:%s" % (os.path.join(MP_TESTS, "shim"), MP_TESTS))

    def gateway_command(self):
        return [self.binary, "-X", "heapsize=%dk" % self.heap_kb,
                os.path.join(MP_TESTS, "edition.py"), self.flash,
                os.path.join(self.image, "fs"), self.write_config()]

    def _on_flash(self, script, *args):
        """Run tests/micropython/<script> over the flash (while the gateway is down);
        -> what it printed."""
        done = subprocess.run([self.binary, os.path.join(MP_TESTS, script), self.flash]
                              + list(args), capture_output=True, text=True, timeout=60,
                              env=self.gateway_env, cwd=self.workdir)
        if done.returncode != 0:
            raise RuntimeError("%s failed: %s" % (script, (done.stdout + done.stderr).strip()))
        return done.stdout

    def journal_events(self):
        return [json.loads(line) for line in self._on_flash("flash_journal.py").splitlines()]

    def remove_from_flash(self, *paths):
        """Delete files of the flash (paths from its root) while the gateway is down."""
        self._on_flash("flash_remove.py", *paths)

    def feeds(self):
        try:
            with open(self.wdt) as f:
                return len(f.read().split())
        except OSError:
            return 0


# -- a day's stretch for the heap figures -----------------------------------------------
DAY_CUSTOMERS = 64
DAY_MENU = {"root": {"prompt": {"en": "Reply 1 accounts, 2 opening hours, 0 agent"},
                     "options": {"1": {"queue": "accounts"},
                                 "2": {"answer": {"en": "Open today {branch_hours}."}}}}}
DAY_HOURS = {"weekly": dict((d, ["00:00-24:00"]) for d in
                            ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
# What the edition logs only when something went wrong (a MemoryError among others).
FAILURES = ("event_failed", "effects_failed", "console_failed", "serial_handler_failed",
            "watchdog_starved", "journal_write_failed")


class DayFailed(Exception):
    pass


def day_branch(binary, image, heap_kb, workdir):
    """A branch set up for `run_day`: the menu and opening hours on, a snapshot every
    100 records (a board writes one an hour: the day must hold one to count it)."""
    return Esp32Branch(binary, image, heap_kb=heap_kb, workdir=workdir,
                       config_overrides={"menu": DAY_MENU, "hours": DAY_HOURS,
                                         "metrics_interval_s": 5, "snapshot_every_events": 100})


def run_day(branch):
    """64 customers write, each answered by the menu and queued by their choice, until
    64 conversations are open; then desk 1 takes two, answers and closes them, and head
    office has their sessions. -> the live heap's peak (bytes), or DayFailed."""
    def check():
        if branch.gateway.poll() is not None:
            raise DayFailed("the gateway exited (%s)" % branch.gateway.returncode)
        broken = [e for e in branch.gateway_events if e.get("event") in FAILURES]
        if broken or [line for line in branch.timeline if "MemoryError" in line]:
            raise DayFailed("the gateway failed: %s" % (broken[:1] or "MemoryError"))

    def ask(method, path, body=None, user="sam"):
        try:
            status, doc = branch.console(method, path, body, user=user)
        except (OSError, ValueError) as e:  # no answer, or not one in JSON
            raise DayFailed("%s %s: %s" % (method, path, e))
        if status != 200:
            raise DayFailed("%s %s: %s %s" % (method, path, status, doc))
        return doc

    def waiting(n):
        check()
        return sum(q["waiting"] for q in ask("GET", "/api/state")["queues"]) >= n

    customers = ["+4477009%05d" % n for n in range(DAY_CUSTOMERS)]
    for number in customers:
        branch.modem.deliver(number, "Hello, I have a question")
    branch.wait_for("the menu answered everyone", lambda: check() or len(
        branch.modem.sent) >= DAY_CUSTOMERS, timeout=120)
    for number in customers:
        branch.modem.deliver(number, "1")
    branch.wait_for("64 conversations waiting", lambda: waiting(DAY_CUSTOMERS), timeout=120)
    branch.panel.press(1, "AVAIL")
    branch.wait_for("two offered to desk 1", lambda: check() or len(
        branch.gateway_has("offered", desk=1)) >= 2, timeout=30)
    for conv in ask("GET", "/api/state")["desks"][0]["conversations"]:
        for path, body in (("reply", {"text": "We are looking into it."}),
                           ("close", {"outcome": "resolved"})):
            ask("POST", "/api/conversations/%d/%s" % (conv, path), body, user="amira")
    branch.wait_for("head office has both sessions", lambda: check() or len(
        branch.mqtt("session")) >= 2, timeout=30)
    branch.wait_for("a heap report", lambda: check() or branch.gateway_has("heap"),
                    timeout=30)
    check()
    return max(int(e["peak"]) for e in branch.gateway_has("heap"))
