"""Inbound SMS from one simulated modem at 115200 baud, end to end into the journal.

The real gateway (`branchline run`, a child process) reads a simulated SIM800 over a
real pseudo-terminal that the simulator paces at 115200 baud 8N1 (11 520 bytes/s each
way), journals every message (fsync) and only then deletes it from the modem. Two
phases, on one gateway:

- throughput: N messages reach the network at once; the modem stores what its SIM
  holds (30 slots) and the network keeps the rest until slots free up, as an SMSC
  does. Figure: N / (last message journaled - first +CMTI).
- latency: messages arrive evenly spaced at LATENCY_LOAD of the line ceiling, so the
  line is busy but no queue builds up. Per message: from the moment the modem emits
  +CMTI (simulator side, wall clock) to the gateway's `journaled` log line for the
  group holding it (written after the fsync, right before the event is applied to the
  core, which queues the conversation). Both processes share the machine's clock.

Bytes on the wire are counted at the simulator in both directions over the throughput
phase (everything: +CMTI, AT+CMGR, the +CMGR answer with its PDU, AT+CMGD, the OKs,
and whatever else the gateway sends meanwhile). The line-rate ceiling is
(115200 / 10) / bytes_per_msg: the AT dialect is one command at a time, so the two
directions take turns and their bytes add up.
"""

import calendar
import os
import shutil
import tempfile
import time

from branchline.proto import pdu
from host_tools import pty_device
from host_tools.bench import report
from host_tools.modem_sim import ModemSim
from host_tools.modem_sim.storage import tpdu_length
from host_tools.sim_branch import SimulatedBranch, StepFailed

BAUD = 115200
LINE_BYTES_PER_S = BAUD / 10.0  # 8N1: a start bit, 8 data bits, a stop bit
CAPACITY = 30  # "SM" slots, as on a SIM800's SIM
N_THROUGHPUT = 600
N_LATENCY = 300
LATENCY_LOAD = 0.5
SENDERS = 40
# A typical customer message: 100 GSM 7-bit characters, one part. Each text carries its
# number, so no two PDUs are alike (the gateway's fingerprints would rightly merge them).
FILLER = "Hello, I would like to know whether my new card has arrived at the branch yet. Thanks!"
TEXT_LEN = 100


def text_for(i):
    head = "#%05d " % i
    return (head + FILLER * 2)[:TEXT_LEN]


def sender_for(i):
    return "+4477009%05d" % (i % SENDERS)


class WireModem(ModemSim):
    """A ModemSim that counts the bytes it puts on and takes off the line, and notes when
    it announces a stored message (+CMTI) and when it is asked to delete one."""

    def __init__(self, *args, **kwargs):
        ModemSim.__init__(self, *args, **kwargs)
        self.tx_bytes = 0
        self.rx_bytes = 0
        self.cmti = []  # (wall time, slot)
        self.cmgd = []  # (wall time, slot)

    def write(self, data, delay=0.0):
        data = data.encode() if isinstance(data, str) else data
        self.tx_bytes += len(data)
        ModemSim.write(self, data, delay)

    def on_bytes(self, data):
        self.rx_bytes += len(data)
        ModemSim.on_bytes(self, data)

    def urc(self, text):
        if text.startswith("+CMTI:"):
            self.cmti.append((time.time(), int(text.rsplit(",", 1)[1])))
        ModemSim.urc(self, text)

    def _command_line(self, line):
        if line.startswith("AT+CMGD=") and self.mem[0] == "SM":
            self.cmgd.append((time.time(), int(line[8:].split(",")[0])))
        ModemSim._command_line(self, line)


def exchange(text, slot=12):
    """The bytes of one stored message's round on the line, as the simulator (ATE0, ATV1)
    and the gateway write them: [(what, direction, bytes), ...]."""
    hex_pdu = pdu.encode_deliver(sender_for(0), text, (2024, 1, 2, 3, 4, 5, 0))[0]
    ok = len("\r\nOK\r\n")
    return [
        ("+CMTI", "modem->host", len('\r\n+CMTI: "SM",%d\r\n' % slot)),
        ("AT+CMGR", "host->modem", len("AT+CMGR=%d\r" % slot)),
        ("+CMGR answer with the PDU, OK", "modem->host",
         len("\r\n+CMGR: 0,,%d\r\n" % tpdu_length(hex_pdu)) + len(hex_pdu) + 2 + ok),
        ("AT+CMGD", "host->modem", len("AT+CMGD=%d\r" % slot)),
        ("OK", "modem->host", ok),
    ]


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far (Linux), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def use_modem(branch, cls, **options):
    """Put a `cls` simulator (a ModemSim subclass) where `branch` (not started yet) has
    its first modem; the one it made is closed unstarted."""
    cfg = branch.config["modems"][0]
    sim = cls(cfg["port"], on_log=branch._logger("modem"), **options)
    branch.modem.stop()
    branch.modem = sim
    if hasattr(branch, "modems"):
        branch.modems[cfg["id"]] = sim
    return sim


def log_time(ts):
    """Wall-clock seconds from a gateway log stamp (2024-01-02T03:04:05.678Z); the stamp
    is truncated to the millisecond, so the middle of that millisecond."""
    whole, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000.0 + 0.0005


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def journaled_times(events):
    """slot -> [wall time the message read from that slot was journaled, ...] in order:
    each `sms_received` is durable with the first `journaled` group logged after it."""
    out = {}
    waiting = []
    for ev in events:
        kind = ev.get("event")
        if kind == "sms_received":
            waiting.append(int(ev["slot"]))
        elif kind == "journaled" and waiting:
            t = log_time(ev["ts"])
            for slot in waiting:
                out.setdefault(slot, []).append(t)
            waiting = []
    return out


def pair_by_slot(announced, done):
    """Latencies (s) from each announcement (time, slot) to the matching completion.

    A slot is reused only after its message was deleted, so per slot the k-th
    announcement belongs to the k-th completion."""
    by_slot = {}
    for t, slot in announced:
        by_slot.setdefault(slot, []).append(t)
    out = []
    for slot, times in by_slot.items():
        ends = done.get(slot, [])
        if len(ends) != len(times):
            raise RuntimeError("slot %d: %d announcements, %d completions" % (slot, len(times), len(ends)))
        out.extend(e - t for t, e in zip(times, ends))
    return out


class Bench:
    def __init__(self, workdir):
        self.branch = SimulatedBranch(workdir=workdir)
        self.modem = use_modem(self.branch, WireModem, capacity=CAPACITY, baud=BAUD)
        self.sent = 0

    def deliver(self, n):
        for _ in range(n):
            self.modem.deliver(sender_for(self.sent), text_for(self.sent))
            self.sent += 1

    def wait_cleared(self, what, timeout):
        """Until every message offered so far was deleted from the modem. Polls: the
        simulator's lock must not be taken under the branch's (its I/O thread takes
        them in the other order when it logs)."""
        modem = self.modem
        total = self.sent
        deadline = time.monotonic() + timeout
        while True:
            with modem.lock:
                if not modem.storage and not modem._network and len(modem.cmgd) >= total:
                    break
            if time.monotonic() > deadline:
                raise StepFailed("timed out waiting for: %s" % what)
            time.sleep(0.05)
        # The last delete follows the last journal group; let its log line arrive too.
        self.branch.wait_for("gateway log caught up", lambda: len(
            self.branch.gateway_has("sms_deleted")) >= total, timeout=10)

    def throughput(self, n):
        modem = self.modem
        with modem.lock:
            modem.tx_bytes = modem.rx_bytes = 0
            first_cmti = len(modem.cmti)
        t0 = time.time()
        cpu0 = cpu_seconds(self.branch.gateway.pid)
        self.deliver(n)
        self.wait_cleared("%d messages journaled and deleted" % n, timeout=20 + n / 5.0)
        with modem.lock:
            wire = modem.tx_bytes + modem.rx_bytes
            tx, rx = modem.tx_bytes, modem.rx_bytes
            start = modem.cmti[first_cmti][0]
        journaled = journaled_times(self.branch.gateway_events)
        end = max(max(v) for v in journaled.values())
        wall = time.time() - t0
        cpu1 = cpu_seconds(self.branch.gateway.pid)
        cpu = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / wall
        return {"n": n, "seconds": end - start, "wire": wire, "tx": tx, "rx": rx, "wall": wall,
                "gateway_cpu": cpu}

    def latency(self, n, interval):
        modem = self.modem
        with modem.lock:
            first_cmti = len(modem.cmti)
            first_cmgd = len(modem.cmgd)
        events_before = len(self.branch.gateway_events)
        start = time.monotonic()
        for i in range(n):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.deliver(1)
        self.wait_cleared("latency messages journaled and deleted", timeout=30)
        with modem.lock:
            cmti = modem.cmti[first_cmti:]
            cmgd = modem.cmgd[first_cmgd:]
        journaled = journaled_times(self.branch.gateway_events[events_before:])
        queued = pair_by_slot(cmti, journaled)
        deleted_by_slot = {}
        for t, slot in cmgd:
            deleted_by_slot.setdefault(slot, []).append(t)
        deleted = pair_by_slot(cmti, deleted_by_slot)
        return queued, deleted


def main(n_throughput=N_THROUGHPUT, n_latency=N_LATENCY):
    workdir = tempfile.mkdtemp(prefix="bl-bench-sms-")
    bench = Bench(workdir)
    try:
        bench.branch.start()
        tp = bench.throughput(n_throughput)
        bytes_per_msg = tp["wire"] / float(n_throughput)
        down_per_msg = tp["tx"] / float(n_throughput)
        ceiling = LINE_BYTES_PER_S / bytes_per_msg
        rate = n_throughput / tp["seconds"]
        interval = 1.0 / (LATENCY_LOAD * ceiling)
        queued, deleted = bench.latency(n_latency, interval)
        rc = bench.branch.stop_gateway()
        if rc != 0:
            raise StepFailed("gateway exited with %s" % rc)
    finally:
        bench.branch.close()
        shutil.rmtree(workdir, ignore_errors=True)

    parts = exchange(text_for(0))
    round_bytes = sum(b for _, _, b in parts)
    to_answer = sum(b for what, _, b in parts[:3])
    figures = {
        "inbound_msgs_per_s": round(rate, 2),
        "line_ceiling_msgs_per_s": round(ceiling, 2),
        "pct_of_ceiling": round(100.0 * rate / ceiling, 1),
        "cmti_to_queued_ms_p50": round(1000 * percentile(queued, 50), 2),
        "cmti_to_queued_ms_p99": round(1000 * percentile(queued, 99), 2),
        "cmti_to_deleted_ms_p50": round(1000 * percentile(deleted, 50), 2),
        "cmti_to_deleted_ms_p99": round(1000 * percentile(deleted, 99), 2),
        "line_time_cmti_to_answer_ms": round(1000 * to_answer / LINE_BYTES_PER_S, 2),
        "bytes_per_msg": round(bytes_per_msg, 1),
        "bytes_per_msg_modem_to_host": round(down_per_msg, 1),
        "bytes_per_msg_host_to_modem": round(tp["rx"] / float(n_throughput), 1),
        "line_ceiling_modem_to_host_msgs_per_s": round(LINE_BYTES_PER_S / down_per_msg, 2),
        "messages": n_throughput,
        "latency_messages": n_latency,
    }
    if tp["gateway_cpu"] is not None:
        figures["gateway_cpu_pct"] = round(100 * tp["gateway_cpu"], 1)
    notes = [
        "one simulated SIM800 (%d SM slots) on a pty paced at %d baud 8N1 (%d bytes/s each "
        "way); the real gateway process (journal fsync'd before each AT+CMGD); desks "
        "offline, so every message queues" % (CAPACITY, BAUD, LINE_BYTES_PER_S),
        "messages: %d GSM 7-bit characters, one part each, from %d senders"
        % (TEXT_LEN, SENDERS),
        "throughput: %d messages offered at once (the network holds what the SIM cannot); "
        "first +CMTI to last journal group %.2f s; gateway CPU over the phase %s"
        % (n_throughput, tp["seconds"],
           "n/a" if tp["gateway_cpu"] is None else "%.0f%%" % (100 * tp["gateway_cpu"])),
        "one message's round (slot 12): " + ", ".join(
            "%s %d (%s)" % (what, b, direction) for what, direction, b in parts)
        + " = %d bytes; measured average %.1f (slot numbers of 1 or 2 digits, and the "
        "gateway's own commands meanwhile)" % (round_bytes, bytes_per_msg),
        "line_ceiling = %d bytes/s / bytes_per_msg, both directions added: an AT command "
        "and its answer take turns on the line. Above 100%% means the simulator's pacing "
        "(a token bucket holding %.0f ms of line time) let the modem side make up for the "
        "turn-arounds; the busier direction alone (modem->host) allows %.1f msgs/s"
        % (LINE_BYTES_PER_S, 1000 * pty_device._BUCKET_S, LINE_BYTES_PER_S / down_per_msg),
        "latency: %d messages at %.0f%% of the ceiling (one every %.1f ms); from the modem "
        "emitting +CMTI to the gateway's `journaled` line (after the fsync, right before "
        "the core queues the message); cmti_to_deleted: to the simulator receiving "
        "AT+CMGD. line_time_cmti_to_answer = the +CMTI, AT+CMGR and answer bytes at line "
        "rate (on an idle line the simulator's bucket sends its first %d bytes at once)"
        % (n_latency, 100 * LATENCY_LOAD, 1000 * interval,
           LINE_BYTES_PER_S * pty_device._BUCKET_S),
    ]
    report.write("sms", figures, notes)
    return 0


if __name__ == "__main__":
    main()
