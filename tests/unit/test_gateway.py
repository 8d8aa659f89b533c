"""The portable event path (appliance/gateway.py) with a port made of test doubles and
a real state folder: what fails while acting on one event leaves the rest of its group
applied, as it is journaled; what could not be journaled is not taken, and an SMS then
stays on the modem (appliance/modems.py)."""

import asyncio
import io

from branchline.appliance.gateway import Gateway
from branchline.appliance.journal_file import NotDurable
from branchline.appliance.modems import ModemPool
from branchline.appliance.store import Store
from branchline.core import config, events
from branchline.core.branch import Rejected
from branchline.log import Log, parse_line
from branchline.ports.cpython import files
from branchline.ports.cpython.history_feed import history
from branchline.proto import modem_events, pdu
from host_tools.bench import core_day

CFG = config.validate(dict(core_day.config(2, 1), modems=[]))
T0 = 1796300000000


class FlakyUplink:
    def __init__(self):
        self.published = []
        self.fail_next = True

    def publish(self, seq, kind, payload):
        if self.fail_next:
            self.fail_next = False
            raise MemoryError("memory allocation failed, allocating 2048 bytes")
        self.published.append(seq)


class DoublePort(Gateway):
    now_ms = staticmethod(lambda: T0)

    async def blocking(self, function, *args):
        return function(*args)

    def later(self, delay_s, function):
        return asyncio.get_running_loop().call_later(delay_s, function)


def gateway(tmp_path, out):
    log = Log(out, now_ms=lambda: T0)
    state = str(tmp_path)
    port = DoublePort(CFG, log, Store(files, state, log, lambda: T0), history(CFG, state, log), 1)
    port.replay()
    port.uplink = FlakyUplink()
    return port


def submit_all(port, stamps):
    """-> each event's error (None when applied), once the group is through."""
    async def run():
        outcomes = []
        for t in stamps:
            port.submit(events.make("metrics", t), done=lambda e, err: outcomes.append(err))
        while port._flusher is not None:
            await asyncio.sleep(0)
        return outcomes

    return asyncio.run(run())


def test_a_failing_effect_leaves_the_rest_of_its_group_applied(tmp_path):
    out = io.StringIO()
    port = gateway(tmp_path, out)
    assert submit_all(port, (T0, T0 + 1000)) == [None, None]
    assert port.core.events_applied == 2 and port.store.records == 2
    assert len(port.uplink.published) == 1  # the second event's message went out
    failed = [parse_line(line) for line in out.getvalue().splitlines()
              if "effects_failed" in line]
    assert len(failed) == 1 and "MemoryError" in failed[0]["reason"]


def test_no_memory_for_a_group_refuses_it_and_the_next_one_goes_through(tmp_path):
    out = io.StringIO()
    port = gateway(tmp_path, out)
    port.uplink.fail_next = False
    append = port.store.append
    port.store.append = lambda records: (_ for _ in ()).throw(
        MemoryError("memory allocation failed, allocating 4096 bytes"))
    (error,) = submit_all(port, (T0,))
    assert isinstance(error, NotDurable) and "out of memory" in str(error)
    assert port.failure is None
    assert port.core.events_applied == 0 and port.store.records == 0
    port.store.append = append
    assert submit_all(port, (T0 + 1000,)) == [None]
    assert port.core.events_applied == 1 and port.store.records == 1


class RecordingApp:
    """What appliance/modems.py asks of the gateway, recording the submissions."""

    def __init__(self):
        self.submitted = []
        self.log = Log(io.StringIO())
        self.now_ms = lambda: T0

    def link(self, name, cfg, on_data, on_open, on_lost):
        return FakeLink()

    def submit(self, event, after=None, done=None):
        self.submitted.append((event, after, done))


class FakeLink:
    is_open = True

    def write(self, data):
        return True


def test_an_sms_not_journaled_stays_on_the_modem_one_refused_is_kept_raw():
    app = RecordingApp()
    port = ModemPool(app, [{"id": "m0", "port": "modem1"}]).ports["m0"]
    hex_pdu = pdu.encode_deliver("+447700900123", "hello", (26, 12, 4, 10, 0, 0, 0))[0]
    received = modem_events.SmsReceived(3, hex_pdu, pdu.decode_deliver(hex_pdu))
    port._sms_received(received)
    (event, _, done), = app.submitted
    assert event["k"] == "sms_in" and event["slot"] == 3
    done(None, NotDurable("out of memory: try again"))
    assert len(app.submitted) == 1  # nothing kept raw: the slot is not freed either
    done(None, Rejected("a modem can report anything"))
    kept = app.submitted[1][0]
    assert kept["k"] == "sms_bad" and kept["pdu"] == hex_pdu
