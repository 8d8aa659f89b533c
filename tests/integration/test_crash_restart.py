"""Kill-and-restart: the real gateway is SIGKILLed at random moments while 500 messages
(single and multipart; GSM 7-bit with extension characters, Chinese, emoji; from many
senders) arrive at a simulated modem paced at 115200 baud. After the restarts and a
final clean run, every message has reached the core exactly once, whole, and nothing is
left on the modem.

What makes it hold: a message is deleted from the modem only after its journal record
is fsync'd; the sweep at every start re-reads whatever is still stored; the core drops a
re-read by its fingerprint (modem + stored PDU); reassembly state is rebuilt from the
journaled parts. A snapshot is written every few dozen records, so kills also land while
one is written or a segment begins. Checked three ways: at every AT+CMGD the message
must already be in the journal on disk; the live core through the console API; the
state folder (newest intact snapshot and the segments after it) loaded into a fresh core.

The second test pins down a start-up case the random kills can hit: a restart while the
modem is still answering the killed gateway's sweep (the AT engine waits for a quiet
line before its first command).
"""

import collections
import io
import os
import random
import threading
import time

import pytest

from branchline.core import journal, snapshot
from branchline.core.branch import Branch
from branchline.core.config import validate
from branchline.log import Log
from branchline.ports.cpython.startup import StateDir
from branchline.ports.cpython.app import open_store
from branchline.proto import gsm7, pdu
from host_tools.sim_branch import SimulatedBranch

SEED = int(os.environ.get("BL_CRASH_SEED", "20240604"))  # try others: BL_CRASH_SEED=n
MESSAGES = 500
KILLS = 8
CAPACITY = 60  # "SM" slots; while the gateway is down the backlog waits here
LINE_BYTES_PER_S = 115200 / 10.0
LOAD = 0.6  # offered share of the line while the gateway is up
FEED_TIMEOUT_S = 120
DRAIN_TIMEOUT_S = 60
SNAPSHOT_EVERY = 40

GSM_BASIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,!?-'()@£$¥èéùìòÇØøÅåÆæßÉÄÖÑÜ§¿äöñüà"
GSM_EXT = "€[]{}|^~\\"
WORDS = ("hello", "account", "card", "branch", "loan", "balance", "please", "thanks",
         "appointment", "tomorrow", "transfer", "statement", "the", "my", "is", "ready")
CJK = "你好我想查询账户余额请问银行卡什么时候可以取谢谢预约明天上午办理业务转账手续费"
EMOJI = ["\U0001F600", "\U0001F44D", "\U0001F389", "\U0001F64F", "\U0001F4B3", "\u2764\ufe0f",
         "\U0001F1EC\U0001F1E7", "\U0001F468\u200d\U0001F469\u200d\U0001F467"]


def _senders(rng):
    out = ["+4477009%05d" % rng.randrange(100000) for _ in range(25)]
    out += ["+86138%08d" % rng.randrange(10 ** 8) for _ in range(20)]
    out += ["0%09d" % rng.randrange(10 ** 9) for _ in range(8)]  # national, no '+'
    out += ["BANK%d" % i for i in range(4)] + ["Shop Alert", "INFO-24"]  # alphanumeric
    return sorted(set(out))


def _text(rng, kind, tag):
    """A text of `kind`; `tag` makes it unique (two equal PDUs in the same second would
    be one message to the fingerprints, rightly)."""
    if kind == "gsm":
        n = rng.choice((rng.randrange(5, 150), rng.randrange(170, 600)))
        words = []
        while sum(len(w) + 1 for w in words) < n:
            words.append(rng.choice(WORDS) if rng.random() < 0.7 else
                         "".join(rng.choice(GSM_BASIC) for _ in range(rng.randrange(1, 8))))
        body = " ".join(words)
    elif kind == "gsm_ext":
        n = rng.choice((rng.randrange(5, 140), rng.randrange(150, 500)))
        # Dense extension characters: they take two septets, and a part boundary must
        # never fall between the escape and its character.
        body = "".join(rng.choice(GSM_EXT) if rng.random() < 0.3 else rng.choice(GSM_BASIC)
                       for _ in range(n))
    elif kind == "chinese":
        n = rng.choice((rng.randrange(2, 60), rng.randrange(75, 260)))
        body = "".join(rng.choice(CJK) for _ in range(n))
    else:  # emoji: surrogate pairs, joiners and flags among text, in UCS2
        n = rng.choice((rng.randrange(2, 50), rng.randrange(70, 200)))
        body = "".join(rng.choice(EMOJI) if rng.random() < 0.3 else rng.choice(WORDS) + " "
                       for _ in range(n // 3 + 1))
    return "[%03d] %s" % (tag, body)


def make_messages(rng, count):
    senders = _senders(rng)
    kinds = ["gsm"] * 40 + ["gsm_ext"] * 20 + ["chinese"] * 25 + ["emoji"] * 15
    out = []
    for i in range(count):
        out.append((rng.choice(senders), _text(rng, rng.choice(kinds), i)))
    return out


def wire_bytes(text):
    """About what one message costs on the modem->host line (answers dominate)."""
    return sum(len(p) + 60 for p in pdu.encode_deliver("+1", text, (2024, 1, 1, 0, 0, 0, 0)))


class DeleteWatch:
    """Checks, at the moment the modem is told to delete a stored message, that the
    message is already in the journal on disk (the gateway's promise). Runs in the
    simulator's I/O thread, reading only what the journal gained since last time.

    Compaction removes segments once a snapshot makes them unnecessary, possibly before
    the modem gets to a delete: a thread hard-links every segment as soon as it appears,
    so the watch reads it whole (the same file) whatever happens to its name."""

    def __init__(self, branch):
        self.state = branch.config["state_dir"]
        self.dir = os.path.join(branch.workdir, "segments-seen")
        os.makedirs(self.dir)
        self._stop = threading.Event()
        threading.Thread(target=self._keep_segments, daemon=True).start()
        self.modem = branch.modem
        self.log = branch.modem.on_log
        self.offsets = {}  # segment number -> bytes of it read so far
        self.durable = set()  # (from, text, concat) of every journaled sms_in
        self.fingerprints = collections.Counter()  # of every journaled sms_in
        self.deletes = 0
        self.violations = []
        branch.modem.on_log = self.on_log

    def _keep_segments(self):
        while not self._stop.wait(0.002):
            self._link_new()

    def _link_new(self):
        for n in snapshot.listing(os.listdir(self.state))[1]:
            name = snapshot.name(snapshot.SEGMENT_PREFIX, n)
            if not os.path.exists(os.path.join(self.dir, name)):
                try:
                    os.link(os.path.join(self.state, name), os.path.join(self.dir, name))
                except (FileNotFoundError, FileExistsError):
                    pass  # gone before it could be kept: its deletes show as violations

    def stop(self):
        self._stop.set()

    def on_log(self, text):
        if text.startswith("AT command: AT+CMGD=") and self.modem.mem[0] == "SM":
            slot = int(text.rsplit("=", 1)[1].split(",")[0])
            entry = self.modem.memories["SM"].slots.get(slot)
            if entry is not None:  # deleting an empty slot is harmless
                self.deletes += 1
                m = pdu.decode_deliver(entry[1])
                key = (m.sender, m.text, list(m.concat) if m.concat else None)
                if repr(key) not in self._journaled():
                    self.violations.append("slot %d deleted before journaled: %r" % (slot, key))
        self.log(text)

    def _journaled(self):
        # Every segment still there (compaction removes only ones long read), from where
        # the last look stopped, up to its last whole record: a torn tail is either
        # still being written or is cut off by the next start, and what precedes it
        # never changes.
        self._link_new()
        for n in snapshot.listing(os.listdir(self.dir))[1]:
            try:
                with open(os.path.join(self.dir, snapshot.name(snapshot.SEGMENT_PREFIX, n)),
                          "rb") as f:
                    f.seek(self.offsets.get(n, 0))
                    data = f.read()
            except FileNotFoundError:
                continue
            events, good, _ = journal.scan(data)
            self.offsets[n] = self.offsets.get(n, 0) + good
            for e in events:
                if e["k"] == "sms_in":
                    self.durable.add(repr((e["from"], e["text"], e.get("concat"))))
                    self.fingerprints[e["fp"]] += 1
        return self.durable


def modem_settled(modem):
    """Nothing stored in "SM", nothing held by the network."""
    with modem.lock:
        return not modem.memories["SM"].slots and not modem._network


def received_by_sender(conversations):
    got = collections.defaultdict(collections.Counter)
    for conv in conversations:
        for m in conv["messages"]:
            if m["dir"] == "in":
                got[conv["customer"]][m["text"]] += 1
    return got


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    rng = random.Random(SEED)
    messages = make_messages(rng, MESSAGES)
    expected = collections.defaultdict(collections.Counter)
    for sender, text in messages:
        expected[sender][text] += 1
    parts = sum(len(pdu.split(text)[1]) for _, text in messages)
    assert parts > MESSAGES * 1.3  # a real share of long messages
    for alphabet in ("gsm7", "ucs2"):
        assert any(pdu.split(t)[0] == alphabet and len(pdu.split(t)[1]) > 1 for _, t in messages)
    assert any(any(c in GSM_EXT for c in t) and gsm7.fits(t) for _, t in messages)

    # A snapshot every few dozen records: the kills land during snapshot writes and
    # segment rotations too, and start-up reads snapshots as often as segments.
    branch = SimulatedBranch(workdir=str(tmp_path),
                             config_overrides={"snapshot_every_events": SNAPSHOT_EVERY})
    branch.modem.capacity = CAPACITY
    watch = DeleteWatch(branch)
    timeline = []
    try:
        branch.start()
        modem = branch.modem

        # The network: messages arrive spaced so that, while the gateway runs, the
        # line is about LOAD busy; while it is down they pile up in the SIM.
        fed = threading.Event()
        feed_errors = []

        def feed():
            feed_rng = random.Random(SEED + 1)
            try:
                for sender, text in messages:
                    modem.deliver(sender, text)
                    mean = wire_bytes(text) / (LINE_BYTES_PER_S * LOAD)
                    time.sleep(feed_rng.expovariate(1.0 / mean))
            except Exception as e:  # pragma: no cover - reported below
                feed_errors.append(e)
            finally:
                fed.set()

        feeder = threading.Thread(target=feed, daemon=True)
        t0 = time.monotonic()
        feeder.start()

        # Kills: each gateway lives a random while, then gets SIGKILL. The draws take
        # turns between start-up (the port opens about a second after the spawn), init
        # and the sweep of what piled up, and steady reading. Some restarts come at
        # once, some after the modem has had time to fill up.
        for k in range(KILLS):
            lifetime = rng.uniform(*((0.2, 1.2), (1.2, 2.5), (2.5, 7.0))[k % 3])
            time.sleep(lifetime)
            stored = len(modem.memories["SM"].slots)
            assert branch.gateway.poll() is None, "gateway %d exited on its own: %s" % (
                k + 1, branch.gateway.returncode)
            last = branch.gateway_events[-1]["event"] if branch.gateway_events else "-"
            branch.kill_gateway()
            timeline.append("%.1fs kill %d after %.2fs (%d stored, last logged: %s)" % (
                time.monotonic() - t0, k + 1, lifetime, stored, last))
            time.sleep(rng.choice((0, 0, rng.uniform(0.1, 1.5))))
            branch.start_gateway(wait=False)

        assert fed.wait(FEED_TIMEOUT_S), "the network did not finish delivering"
        assert not feed_errors, feed_errors
        feeder.join()

        # One last kill, then the final run: it drains the modem and stops cleanly.
        time.sleep(rng.uniform(0.2, 2.0))
        branch.kill_gateway()
        branch.start_gateway()
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while not modem_settled(modem):
            assert branch.gateway.poll() is None, "gateway exited: %s" % branch.gateway.returncode
            assert time.monotonic() < deadline, "modem not drained: %d stored, %d waiting" % (
                len(modem.memories["SM"].slots), len(modem.waiting))
            time.sleep(0.1)
        timeline.append("%.1fs modem drained" % (time.monotonic() - t0))

        # The live core, as the agents' console shows it.
        status, state = branch.console("GET", "/api/state")
        assert status == 200
        assert sum(q["waiting"] for q in state["queues"]) + state["held"] == len(expected)
        assert state["partial_messages"] == 0
        live = []
        for conv_id in range(1, len(expected) + 1):
            status, conv = branch.console("GET", "/api/conversations/%d" % conv_id)
            assert status == 200, (conv_id, conv)
            live.append(conv)
        assert branch.stop_gateway() == 0

        # Nothing left on the modem, nothing lost or still held by the network.
        assert modem.memories["SM"].slots == {}
        assert modem.waiting == [] and modem.lost == []
    finally:
        watch.stop()
        branch.close()
        print("\n".join(timeline))

    assert watch.violations == []
    assert watch.deletes >= parts

    # Exactly once, whole: the console's view, and the state folder (snapshot and the
    # segments after it) loaded into a fresh core.
    assert received_by_sender(live) == expected
    core = Branch(validate(dict(branch.config)))
    snapshots, _ = snapshot.listing(os.listdir(branch.config["state_dir"]))
    assert len(snapshots) >= 2  # compaction ran, and kept the one before as a fallback
    open_store(StateDir(branch.config["state_dir"]), Log(io.StringIO())).load(core)
    replayed = [c.as_dict() for c in core.conversations.values()]
    assert received_by_sender(replayed) == expected
    assert core.reassembler.pending() == [] and core.quarantine == []

    fingerprints = watch.fingerprints
    reread = sum(n - 1 for n in fingerprints.values())
    print("%d messages in %d parts; %d kills; %d parts journaled twice (read again after a "
          "kill, dropped by the core); %d boots; %d snapshots at the end" % (
              MESSAGES, parts, KILLS + 1, reread, KILLS + 2, len(snapshots)))
    assert len(fingerprints) == parts


@pytest.mark.slow
def test_restart_while_the_modem_still_answers_the_last_sweep(tmp_path):
    branch = SimulatedBranch(workdir=str(tmp_path))
    branch.modem.capacity = 120
    watch = DeleteWatch(branch)
    swept = threading.Event()
    log = branch.modem.on_log

    def on_log(text):
        if text == "AT command: AT+CMGL=4" and branch.modem.mem[0] == "SM":
            swept.set()
        log(text)

    branch.modem.on_log = on_log
    try:
        branch.start()
        modem = branch.modem
        branch.kill_gateway()
        sent = [("+4477009%05d" % (i % 9), "#%03d " % i + "long enough to fill a part. " * 6)
                for i in range(120)]
        for sender, text in sent:
            modem.deliver(sender, text[:160])
        # The listing of 120 full messages takes about 4 s of line; kill the gateway
        # that asked for it at once, and start the next one while it is still coming.
        swept.clear()
        branch.start_gateway(wait=False)
        assert swept.wait(15)
        time.sleep(0.05)
        branch.kill_gateway()
        branch.start_gateway(wait=False)
        deadline = time.monotonic() + 20
        while not modem_settled(modem) and time.monotonic() < deadline:
            time.sleep(0.1)
        drained = modem_settled(modem)
        assert branch.stop_gateway() == 0
    finally:
        watch.stop()
        branch.close()
    assert watch.violations == []
    assert drained, "messages left on the modem 20 s after the restart: its sweep missed them"
