"""The modem driver over a real serial port: the simulator on a pty, or a modem (--hil-modem)."""

import time

import pytest
import serial

from branchline.proto import modem, modem_events, pdu, sans_io


class Rig:
    def __init__(self, path, baud=115200):
        self.port = serial.Serial(path, baud, timeout=0.05)
        self.driver = modem.ModemDriver()
        self.events = []

    def now(self):
        return int(time.monotonic() * 1000)

    def run_until(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.driver.data_to_send()
            if out:
                self.port.write(out)
            data = self.port.read(4096)
            if data:
                self.driver.receive_data(data, self.now())
            self.driver.tick(self.now())
            while True:
                ev = self.driver.next_event()
                if ev is sans_io.NEED_DATA:
                    break
                self.events.append(ev)
            found = predicate()
            if found:
                return found
        raise AssertionError("timed out; events so far: %r" % self.events)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]

    def close(self):
        self.port.close()


@pytest.fixture
def rig(modem_port, request):
    path, sim = modem_port
    r = Rig(path, request.config.getoption("--hil-baud"))
    r.sim = sim
    r.driver.start(r.now())
    r.run_until(lambda: r.of(modem_events.ModemReady))
    yield r
    r.close()


def needs_sim(rig):
    if rig.sim is None:
        pytest.skip("injecting a message needs the simulator")


def test_init_reaches_ready_without_problems(rig):
    assert rig.of(modem_events.ModemProblem) == []
    if rig.sim is not None:
        assert rig.sim.echo is False and rig.sim.cmgf == 0 and rig.sim.cnmi_mt == 1


def test_received_message_is_read_then_deleted_only_on_request(rig):
    needs_sim(rig)
    rig.sim.deliver("+8613800138000", "你好，我想查询余额")
    (got,) = rig.run_until(lambda: rig.of(modem_events.SmsReceived))
    assert got.message.text == "你好，我想查询余额" and got.message.sender == "+8613800138000"
    assert got.slot in rig.sim.storage  # still there: the journal has not confirmed it
    rig.driver.delete(got.slot, rig.now())
    rig.run_until(lambda: rig.of(modem_events.SmsDeleted))
    assert rig.sim.storage == {}


def test_messages_stored_while_away_are_swept_at_start(modem_port, tmp_path):
    path, sim = modem_port
    if sim is None:
        pytest.skip("needs the simulator")
    sim.cnmi_mt = 0
    sim.deliver("+447700900123", "sent while the gateway was down")
    r = Rig(path)
    try:
        r.driver.start(r.now())
        r.run_until(lambda: r.of(modem_events.ModemReady))
        (got,) = r.of(modem_events.SmsReceived)
        assert got.message.text == "sent while the gateway was down"
    finally:
        r.close()


def test_outgoing_message_reaches_the_network(rig):
    needs_sim(rig)
    rig.driver.send_sms(1, "+447700900123", "Your appointment is at 10:00 €5 fee", rig.now())
    (sent,) = rig.run_until(lambda: rig.of(modem_events.SmsSent))
    assert sent.ref == 1
    assert rig.sim.sent_texts() == [("+447700900123", "Your appointment is at 10:00 €5 fee")]
    assert pdu.decode_submit(rig.sim.sent[0].pdu).encoding == "gsm7"


def test_simulator_echoes_until_ate0(modem_port):
    path, sim = modem_port
    if sim is None:
        pytest.skip("checks the simulator itself")
    with serial.Serial(path, 115200, timeout=0.5) as port:
        port.write(b"AT\r")
        assert port.read_until(b"OK\r\n").startswith(b"AT\r")
        port.write(b"ATE0\r")
        port.read_until(b"OK\r\n")
        port.write(b"AT+CGMM\r")
        assert port.read_until(b"OK\r\n") == b"\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n"
