"""The core's heap on a 32-bit MicroPython (the unix port `make test` builds from the
vendored source: the build closest to an ESP32's heap), with 64 conversations open:
host_tools/bench/heap_probe.py measures inside it; docs/memory.md explains the figures.

Two sets of limits: the ESP32 edition's (ESP32_LIMITS, what an ESP32 without PSRAM
should be configured with) and the configuration defaults (sized for a Raspberry Pi).
"""

import glob
import json
import os
import subprocess
import tempfile

import branchline
import host_tools
from host_tools.bench.report import BenchUnavailable

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heap_probe.py")
# Where `branchline` and `host_tools` are, checkout or installed, for MicroPython's path.
PATH = ":".join(sorted({os.path.dirname(os.path.dirname(os.path.abspath(m.__file__)))
                        for m in (branchline, host_tools)}))
OPEN = 64
DESKS = 8
QUEUES = 4
EVENTS = 3000
ESP32_LIMITS = {"queue_capacity": 64, "remembered_customers": 256,
                "remembered_messages": 256, "remembered_sends": 64, "remembered_closes": 64,
                "remembered_surveys": 128, "remembered_preferences": 64}
BUDGET_BYTES = 96 * 1024  # the ESP32 edition's budget for the core's live heap


def unix_port_modules(mp):
    """Where the unix port `mp` finds asyncio: its source tree's extmod/ (this build
    freezes none)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(mp)))), "extmod")


def unix_port():
    """The 32-bit MicroPython unix port `make test` builds (in build/, where make runs
    from), or None."""
    found = glob.glob(os.path.join("build", "mp-*", "*", "ports", "unix",
                                   "build-32-native", "micropython"))
    return found[0] if found else None


def probe(limits, events=EVENTS, open_convs=OPEN, service=False):
    """heap_probe's figures under the 32-bit unix port (BenchUnavailable without it);
    `service`: the service layer on, with the btree history index."""
    mp = unix_port()
    if mp is None:
        raise BenchUnavailable("heap: the 32-bit MicroPython unix port is not built "
                               "(make bootstrap builds it)")
    params = {"open": open_convs, "events": events, "desks": DESKS, "queues": QUEUES,
              "limits": limits, "service": service}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(params, f)
        f.flush()
        done = subprocess.run([mp, PROBE, f.name], capture_output=True, text=True,
                              timeout=600, env=dict(os.environ, MICROPYPATH=PATH))
    if done.returncode != 0:
        raise RuntimeError("heap probe failed: %s" % (done.stdout + done.stderr)[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def figures():
    """-> (figures for core.json, notes)."""
    esp32 = probe(ESP32_LIMITS)
    default = probe({})
    out = {
        "mpy_heap_bytes_open_64": esp32["core_peak_bytes"],
        "mpy_heap_bytes_open_64_settled": esp32["core_settled_bytes"],
        "mpy_heap_bytes_empty": esp32["core_empty_bytes"],
        "mpy_heap_bytes_open_64_default_limits": default["core_peak_bytes"],
        "mpy_heap_budget_bytes": BUDGET_BYTES,
    }
    for key in ("open_conversation_bytes", "message_bytes_beyond_text", "fingerprint_bytes",
                "remembered_customer_bytes", "remembered_send_bytes", "remembered_close_bytes",
                "remembered_survey_bytes", "remembered_preference_bytes", "metrics_scope_bytes",
                "owed_sms_bytes_beyond_text", "metrics_message_bytes"):
        out["mpy_" + key] = esp32[key]
    notes = [
        "heap: gc.mem_alloc() on the 32-bit MicroPython unix port, the core's own (after "
        "its imports), peak over %d events with %d conversations open (%d desks, %d "
        "queues), ESP32 limits %s; budget %d KB; the configuration defaults give %d"
        % (EVENTS, OPEN, DESKS, QUEUES, json.dumps(ESP32_LIMITS, sort_keys=True),
           BUDGET_BYTES // 1024, default["core_peak_bytes"]),
    ]
    return out, notes
