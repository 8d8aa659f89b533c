"""A year at a branch, on disk, and what it costs to start after it.

A simulated year (at least 3,000,000 events; about 650,000 conversations at 20 desks)
runs through the real core into the real Store (journal segments, a snapshot every
`snapshot_every_events` records, compaction), in groups as the gateway writes them.
Then:
- `disk_bytes_after_year`: what the state folder holds, its archive included
  (`archive_bytes_after_year`: the segments kept for `retention_days`);
- `boot_ms_after_year`: the real `branchline run` on that folder, from the process's
  start to its `gateway_started` line (no modems; its own broker port, unused);
- `replay_events_per_s`: the rate at which start-up replays the records after the
  snapshot (measured on a folder whose last snapshot lies 50,000 records back).
"""

import compileall
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import branchline
from branchline.core import branch as core_branch
from branchline.core import config as core_config
from branchline.core import events, journal, snapshot
from branchline.log import Log, parse_line
from branchline.ports.cpython.startup import StateDir
from branchline.ports.cpython.app import open_store
from host_tools.bench import core_day, report
from host_tools.broker import free_port

YEAR_EVENTS = 3_000_000
YEAR_MS = 365 * 86400000
GROUP = 500  # records per append (one fsync), as a busy gateway's groups
N_DESKS = 20
N_QUEUES = 4
REPLAY_TAIL = 50_000


def _config(state_dir, **extra):
    doc = core_day.config(N_DESKS, N_QUEUES, queue_capacity=256, **extra)
    doc.update(state_dir=state_dir, console={"host": "127.0.0.1", "port": 0},
               mqtt={"host": "127.0.0.1", "port": free_port()})
    return doc


def simulate(folder, n_events, snapshot_every, max_snapshots=None):
    """Run `n_events` into a Store in `folder`, snapshotting every `snapshot_every`
    records (at most `max_snapshots` times); -> (conversations, wall s, simulated ms)."""
    cfg = core_config.validate(_config(folder, snapshot_every_events=snapshot_every))
    core = core_branch.Branch(cfg)
    state_dir = StateDir(folder)
    store = open_store(state_dir, Log(io.StringIO()), cfg["retention_days"])
    store.load(core)
    scenario = core_day.Scenario(N_DESKS, N_QUEUES, gap_ms=2 * YEAR_MS // YEAR_EVENTS)
    group = []
    t0 = time.perf_counter()
    for ev in scenario.desks_in():
        group.append(journal.encode(ev))
        core.apply(ev)
    for _ in range(n_events):
        ev = scenario.step(keep_open=60)
        try:
            core.check(ev)
        except core_branch.Rejected:
            continue
        group.append(journal.encode(ev))
        scenario.observe(ev, core.apply(ev), len(core.conversations))
        if len(group) >= GROUP:
            store.append(group)
            group = []
            if store.since_snapshot >= snapshot_every and max_snapshots != 0:
                store.begin_snapshot(core.dump(), events.SCHEMA, core.now)()
                if max_snapshots is not None:
                    max_snapshots -= 1
    if group:
        store.append(group)
    store.close()
    state_dir.release()
    return core._next_conv - 1, time.perf_counter() - t0, scenario.t - core_day.Scenario(
        1, 1).t


def disk_bytes(folder):
    """-> (the folder's bytes, the archive's part of them)."""
    total = archive = 0
    for root, _dirs, files in os.walk(folder):
        size = sum(os.path.getsize(os.path.join(root, n)) for n in files)
        total += size
        if os.path.basename(root) == snapshot.ARCHIVE_DIR:
            archive += size
    return total, archive


def boot_ms(folder, cfg_doc):
    """From spawning `branchline run` to its gateway_started line. The package's
    bytecode is compiled first, as installing it does on an appliance (a checkout run
    with PYTHONDONTWRITEBYTECODE would compile every module at each start)."""
    path = os.path.join(os.path.dirname(folder), "config.json")
    with open(path, "w") as f:
        json.dump(cfg_doc, f)
    compileall.compile_dir(os.path.dirname(branchline.__file__), quiet=1)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "branchline.ports.cpython.cli", "run",
                             "--config", path], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        replayed = None
        for line in proc.stdout:
            fields = parse_line(line)
            if fields.get("event") == "journal_replayed":
                replayed = int(fields["events"])
            if fields.get("event") == "gateway_started":
                return (time.perf_counter() - t0) * 1000.0, replayed
        raise RuntimeError("the gateway did not start")
    finally:
        proc.terminate()
        proc.wait(30)


def replay_rate(folder, runs=5):
    """Events per second that Store.load replays after its snapshot: the best of `runs`
    starts (a shared machine's noise only ever slows a run down)."""
    best = 0.0
    for _ in range(runs):
        cfg = core_config.validate(_config(folder))
        core = core_branch.Branch(cfg)
        state_dir = StateDir(folder)
        store = open_store(state_dir, Log(io.StringIO()))
        t0 = time.perf_counter()
        replayed = store.load(core)
        spent = time.perf_counter() - t0
        store.close()
        state_dir.release()
        best = max(best, replayed / spent)
    return best, replayed


def main(n_events=YEAR_EVENTS):
    work = tempfile.mkdtemp(prefix="bl-year-")
    try:
        year = os.path.join(work, "year")
        os.makedirs(year)
        conversations, wall, span_ms = simulate(year, n_events, 10000)
        ms, boot_replayed = boot_ms(year, _config(year))
        tail = os.path.join(work, "tail")
        os.makedirs(tail)
        simulate(tail, REPLAY_TAIL + 2000, 2000, max_snapshots=1)  # one snapshot, a long tail
        rate, tail_replayed = replay_rate(tail)
        disk, archive = disk_bytes(year)
        figures = {
            "boot_ms_after_year": round(ms),
            "replay_events_per_s": round(rate),
            "disk_bytes_after_year": disk,
            "archive_bytes_after_year": archive,
            "year_events": n_events,
            "year_conversations": conversations,
        }
        notes = [
            "a year: %d events over %.0f simulated days, %d conversations, 20 desks, 4 "
            "queues; generated in %.0f s (core + journal, groups of %d, snapshot every "
            "10,000 records)" % (n_events, span_ms / 86400000.0, conversations, wall, GROUP),
            "boot: branchline run from spawn to gateway_started, CPython with the C router "
            "and the package's bytecode compiled (as installed), "
            "%d records replayed after the snapshot" % boot_replayed,
            "replay: Store.load of %d records after a snapshot, best of 5 starts"
            % tail_replayed,
            "disk: the state folder with its archive (closed conversations' journal, "
            "retention_days %d); ceiling (default) %d MB" % (
                core_config.DEFAULTS["retention_days"],
                core_config.DEFAULTS["disk_ceiling_mb"]),
        ]
        report.write("year", figures, notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else YEAR_EVENTS)
