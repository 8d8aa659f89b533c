"""The modem simulator driven with raw AT commands over a real pty, byte for byte as a
driver (or gammu) would see it: every behaviour the issue asks the simulator for."""

import json
import os
import subprocess
import sys
import time

import pytest
import serial

from branchline.proto import pdu
from host_tools import control
from host_tools.modem_sim import ModemSim

CUSTOMER = "+447700900123"
FAST = dict(ring_period=0.05, boot_delay=0.05, cnma_timeout=0.3, report_delay=0.02)


class Line:
    """The host's end of the serial line: write commands, read what comes back as lines."""

    def __init__(self, path):
        self.port = serial.Serial(path, 115200, timeout=0.02)
        self.buf = b""
        self.pending = []  # lines read but not yet consumed by until()

    def send(self, data):
        self.port.write(data if isinstance(data, bytes) else data.encode())

    def _read_lines(self):
        self.buf += self.port.read(4096)
        *complete, self.buf = self.buf.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
        self.pending += [line.decode("ascii", "replace") for line in complete if line]

    def until(self, stop, timeout=2.0):
        """Lines read until one satisfies `stop` (a str or a predicate), that one included."""
        match = stop if callable(stop) else (lambda line: line == stop)
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read_lines()
            while self.pending:
                got.append(self.pending.pop(0))
                if match(got[-1]):
                    return got
        raise AssertionError("no %r within %.1fs; got %r" % (stop, timeout, got))

    def cmd(self, text, timeout=2.0):
        """Send a command; -> its lines up to and including the final result."""
        self.send(text + "\r")
        return self.until(is_final, timeout)

    def ok(self, text):
        lines = self.cmd(text)
        assert lines[-1] == "OK", (text, lines)
        return lines[:-1]

    def wait_bytes(self, token, timeout=2.0):
        deadline = time.monotonic() + timeout
        while token not in self.buf:
            assert time.monotonic() < deadline, "no %r; have %r" % (token, self.buf)
            self.buf += self.port.read(4096)
        self.buf = self.buf[self.buf.index(token) + len(token) :]

    def silent_for(self, seconds):
        """-> whatever arrived within `seconds` (b'' for a silent modem)."""
        end = time.monotonic() + seconds
        data = "".join(self.pending).encode() + self.buf
        while time.monotonic() < end:
            data += self.port.read(4096)
        return data

    def close(self):
        self.port.close()


def is_final(line):
    return (line in ("OK", "ERROR", "NO CARRIER", "0", "4")
            or line.startswith("+CME ERROR:") or line.startswith("+CMS ERROR:"))


@pytest.fixture
def open_sim(tmp_path):
    """open_sim(**ModemSim kwargs) -> (sim, Line) with echo off and numeric errors."""
    sims, lines = [], []

    def make(quiet=True, **kwargs):
        options = dict(FAST)
        options.update(kwargs)
        sim = ModemSim(str(tmp_path / ("modem%d" % len(sims))), **options).start()
        sims.append(sim)
        line = Line(sim.link)
        lines.append(line)
        if quiet:
            line.ok("ATE0")
            line.ok("AT+CMEE=1")
        return sim, line

    yield make
    for line in lines:
        line.close()
    for sim in sims:
        sim.stop()
        assert sim.errors == []


@pytest.fixture
def modem(open_sim):
    return open_sim()


def submit_pdu(text="hi", number=CUSTOMER, report=False):
    ((hex_pdu, length),) = pdu.encode_submit(number, text, request_status_report=report)
    return hex_pdu, length


def send_sms(line, text="hi", number=CUSTOMER, report=False, hex_pdu=None, length=None):
    """AT+CMGS with its PDU; -> the lines of the answer."""
    if hex_pdu is None:
        hex_pdu, length = submit_pdu(text, number, report)
    line.send("AT+CMGS=%d\r" % length)
    line.wait_bytes(b"> ")
    line.send(hex_pdu + "\x1a")
    return line.until(is_final)


def report_fields(hex_pdu):
    """(TP-MR, TP-RA, TP-ST) of an SMS-STATUS-REPORT with its SMSC prefix."""
    report = pdu.decode_status_report(hex_pdu)
    return report.message_ref, report.recipient, report.status


# -- line settings and errors ------------------------------------------------------------


def test_echo_until_ate0_and_again_after_ate1(open_sim):
    _, line = open_sim(quiet=False)
    assert line.cmd("AT") == ["AT", "OK"]
    assert line.cmd("ATE0") == ["ATE0", "OK"]
    assert line.cmd("AT") == ["OK"]
    line.ok("ATE1")
    assert line.cmd("AT+CGMI") == ["AT+CGMI", "SIMCOM_Ltd", "OK"]


def test_atv0_gives_numeric_result_codes(modem):
    _, line = modem
    line.send("ATV0\r")
    line.wait_bytes(b"0\r")
    assert line.cmd("AT") == ["0"]
    assert line.cmd("AT+NOSUCH") == ["4"]
    line.send("ATV1\r")
    line.wait_bytes(b"\r\nOK\r\n")


@pytest.mark.parametrize("cmee, sms_error, sim_error", [
    (0, "ERROR", "ERROR"),
    (1, "+CMS ERROR: 321", "+CME ERROR: 10"),
    (2, "+CMS ERROR: invalid memory index", "+CME ERROR: SIM not inserted"),
])
def test_errors_take_the_form_cmee_asks_for(open_sim, cmee, sms_error, sim_error):
    sim, line = open_sim()
    line.ok("AT+CMEE=%d" % cmee)
    assert line.cmd("AT+CMGR=99") == [sms_error]
    sim.sim_present = False
    assert line.cmd("AT+CPIN?") == [sim_error]
    assert line.cmd("AT+CIMI") == [sim_error]
    assert line.cmd("AT+NOSUCH") == ["ERROR"]  # unknown commands stay plain ERROR


def test_identification(modem):
    _, line = modem
    assert line.ok("ATI") == ["SIM800 R14.18"]
    assert line.ok("AT+CGMI") == ["SIMCOM_Ltd"]
    assert line.ok("AT+CGMM") == ["SIMCOM_SIM800L"]
    assert line.ok("AT+CGMR") == ["Revision:1418B05SIM800L24"]
    assert line.ok("AT+CGSN") == line.ok("AT+GSN") == ["866000000000017"]
    assert line.ok("AT+CIMI") == ["460001234567890"]
    assert line.ok("AT+CSCS?") == ['+CSCS: "IRA"']
    line.ok('AT+CSCS="GSM"')
    assert line.ok("AT+CSCA?") == ['+CSCA: "+8613800200500",145']
    # Commands chain on one line, as V.250 allows.
    assert line.ok("AT+CMGF=0;+CMGF?;+CSCS?") == ["+CMGF: 0", '+CSCS: "GSM"']


def test_lte_model_identifies_as_quectel_and_answers_cereg(open_sim):
    _, line = open_sim(model="EC25")
    assert line.ok("ATI") == ["Quectel", "EC25", "Revision: EC25EFAR06A09M4G"]
    assert line.ok("AT+CEREG?") == ["+CEREG: 0,1"]


# -- storage -----------------------------------------------------------------------------


def test_storage_slots_capacity_and_cpms(open_sim):
    sim, line = open_sim(capacity=3)
    line.ok("AT+CNMI=2,1,0,0,0")
    assert [sim.deliver(CUSTOMER, "m%d" % i) for i in range(3)] == [[1], [2], [3]]
    assert line.until(lambda l: l.endswith(",3"))[-3:] == ['+CMTI: "SM",1', '+CMTI: "SM",2', '+CMTI: "SM",3']
    assert sim.deliver(CUSTOMER, "waits") == []  # full: the network holds on to it
    assert len(sim.waiting) == 1
    assert line.ok("AT+CPMS?") == ['+CPMS: "SM",3,3,"SM",3,3,"SM",3,3']
    line.ok("AT+CMGD=2")
    assert line.until('+CMTI: "SM",2') == ['+CMTI: "SM",2']  # space again: it arrives
    assert sim.waiting == []
    assert pdu.decode_deliver(sim.storage[2][1]).text == "waits"


def test_cpms_chooses_memories_for_reading_and_receiving(modem):
    sim, line = modem
    assert line.ok('AT+CPMS="ME","ME","ME"') == ["+CPMS: 0,50,0,50,0,50"]
    line.ok("AT+CNMI=2,1,0,0,0")
    sim.deliver(CUSTOMER, "into the modem's own memory")
    line.until('+CMTI: "ME",1')
    assert sim.storage == {} and list(sim.memories["ME"].slots) == [1]
    assert line.ok("AT+CPMS?") == ['+CPMS: "ME",1,50,"ME",1,50,"ME",1,50']
    assert line.ok('AT+CPMS="SM"') == ["+CPMS: 0,30,1,50,1,50"]  # one memory given: mem1 only
    assert line.cmd('AT+CPMS="XX"') == ["+CMS ERROR: 302"]
    assert line.cmd('AT+CPMS="SM","SR"') == ["+CMS ERROR: 302"]  # nobody writes into SR


def write_stored(line, stat, text="draft"):
    hex_pdu, length = submit_pdu(text)
    line.send("AT+CMGW=%d,%d\r" % (length, stat))
    line.wait_bytes(b"> ")
    line.send(hex_pdu + "\x1a")
    lines = line.until(is_final)
    assert lines[-1] == "OK", lines
    return int(lines[0].split(":")[1])


def fill_every_stat(sim, line):
    """Slots 1-2 unread, 3 read, 4 unsent, 5 sent."""
    for i in range(3):
        sim.deliver(CUSTOMER, "in %d" % i)
    line.ok("AT+CMGR=3")
    assert [write_stored(line, 2), write_stored(line, 3)] == [4, 5]


def listed(lines):
    return [int(l.split(":")[1].split(",")[0]) for l in lines if l.startswith("+CMGL:")]


def test_cmgl_lists_by_stat_and_marks_unread_as_read(modem):
    sim, line = modem
    fill_every_stat(sim, line)
    assert listed(line.ok("AT+CMGL=2")) == [4]
    assert listed(line.ok("AT+CMGL=3")) == [5]
    lines = line.ok("AT+CMGL=0")
    assert lines[0] == "+CMGL: 1,0,,%d" % (len(sim.storage[1][1]) // 2 - 1)
    assert pdu.decode_deliver(lines[1]).text == "in 0"
    assert listed(lines) == [1, 2]
    assert listed(line.ok("AT+CMGL=0")) == []  # listing them marked them read
    assert listed(line.ok("AT+CMGL=1")) == [1, 2, 3]
    assert listed(line.ok("AT+CMGL=4")) == [1, 2, 3, 4, 5]
    assert line.cmd("AT+CMGL=5") == ["+CMS ERROR: 302"]


def test_cmgr_reads_a_slot_and_an_empty_one_is_just_ok(modem):
    sim, line = modem
    sim.deliver(CUSTOMER, "read me")
    header, hex_pdu = line.ok("AT+CMGR=1")
    assert header.startswith("+CMGR: 0,,") and pdu.decode_deliver(hex_pdu).text == "read me"
    assert line.ok("AT+CMGR=1")[0].startswith("+CMGR: 1,,")  # now REC READ
    assert line.ok("AT+CMGR=2") == []
    assert line.cmd("AT+CMGR=31") == ["+CMS ERROR: 321"]


@pytest.mark.parametrize("delflag, left", [(1, [1, 2, 4, 5]), (2, [1, 2, 4]), (3, [1, 2]), (4, [])])
def test_cmgd_delflags(modem, delflag, left):
    sim, line = modem
    fill_every_stat(sim, line)
    line.ok("AT+CMGD=1,%d" % delflag)
    assert sorted(sim.storage) == left


def test_pdu_trailer_ends_the_pdu_lines_of_cmgr_and_cmgl(open_sim):
    sim, line = open_sim(pdu_trailer='"')
    sim.deliver(CUSTOMER, "with junk")
    stored = sim.storage[1][1]
    assert line.ok("AT+CMGR=1")[1] == stored + '"'
    assert line.ok("AT+CMGL=4")[1] == stored + '"'


def test_truncate_udl_stores_messages_short_of_their_user_data(open_sim):
    sim, line = open_sim(truncate_udl=2)
    scts = (2026, 1, 1, 0, 0, 0, 0)
    sim.deliver(CUSTOMER, "cut short", scts=scts)
    (whole,) = pdu.encode_deliver(CUSTOMER, "cut short", scts)
    header, stored = line.ok("AT+CMGR=1")
    assert stored == whole[:-4]  # TP-UDL still says 9 septets: 8 octets, 6 are there
    assert header == "+CMGR: 0,,%d" % (len(stored) // 2 - 1)


def test_cmgd_one_slot_and_bad_indexes(modem):
    sim, line = modem
    sim.deliver(CUSTOMER, "a")
    line.ok("AT+CMGD=1")
    line.ok("AT+CMGD=1")  # already empty: still OK
    assert sim.storage == {} and sim.deleted == [("SM", 1)]
    assert line.cmd("AT+CMGD=0") == ["+CMS ERROR: 321"]
    assert line.cmd("AT+CMGD=1,7") == ["+CMS ERROR: 302"]


def test_storage_full_holds_messages_and_refuses_writes(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,0,0")
    sim.set_storage_full(True)
    assert sim.deliver(CUSTOMER, "held by the network") == []
    hex_pdu, length = submit_pdu()
    line.send("AT+CMGW=%d\r" % length)
    line.wait_bytes(b"> ")
    line.send(hex_pdu + "\x1a")
    assert line.until(is_final) == ["+CMS ERROR: 322"]
    sim.set_storage_full(False)
    line.until('+CMTI: "SM",1')
    assert pdu.decode_deliver(sim.storage[1][1]).text == "held by the network"


# -- new message indications -------------------------------------------------------------


def test_cnmi_mt0_stores_silently(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,0,0,0,0")
    assert sim.deliver(CUSTOMER, "quiet") == [1]
    assert line.silent_for(0.2) == b""


def test_cnmi_mt2_delivers_directly_without_storing(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,2,0,0,0")
    assert sim.deliver(CUSTOMER, "direct") == []
    header, hex_pdu = line.until(lambda l: not l.startswith("+CMT"))
    assert header == "+CMT: ,%d" % (len(hex_pdu) // 2 - 1)
    assert pdu.decode_deliver(hex_pdu).text == "direct"
    assert sim.storage == {}
    assert line.cmd("AT+CNMA") == ["+CMS ERROR: 340"]  # phase 2 (AT+CSMS=0): no ack expected


def test_cmt_under_csms1_waits_for_cnma_before_the_next(modem):
    sim, line = modem
    assert line.ok("AT+CSMS=1") == ["+CSMS: 1,1,1"]
    line.ok("AT+CNMI=2,2,0,0,0")
    sim.deliver(CUSTOMER, "first")
    sim.deliver(CUSTOMER, "second")
    first = line.until(lambda l: not l.startswith("+CMT"))[-1]
    assert pdu.decode_deliver(first).text == "first"
    assert line.silent_for(0.1) == b""  # the second waits for the acknowledgement
    line.send("AT+CNMA\r")
    lines = line.until(lambda l: not l.startswith("+CMT") and l != "OK")
    assert lines[0] == "OK" and pdu.decode_deliver(lines[-1]).text == "second"
    line.ok("AT+CNMA")
    assert sim.storage == {} and sim.lost == []


def test_cmt_without_cnma_falls_back_to_storage(modem):
    sim, line = modem
    line.ok("AT+CSMS=1")
    line.ok("AT+CNMI=2,2,0,0,0")
    sim.deliver(CUSTOMER, "nobody acked")
    line.until(lambda l: l.startswith("+CMT:"))
    assert line.until(lambda l: l.startswith("+CMTI:"), timeout=2)[-1] == '+CMTI: "SM",1'
    assert pdu.decode_deliver(sim.storage[1][1]).text == "nobody acked"


def test_cmt_without_cnma_dropped_when_configured(open_sim):
    sim, line = open_sim(cnma_fallback="drop")
    line.ok("AT+CSMS=1")
    line.ok("AT+CNMI=2,2,0,0,0")
    sim.deliver(CUSTOMER, "lost")
    line.until(lambda l: l.startswith("+CMT:"))
    deadline = time.monotonic() + 2
    while not sim.lost and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sim.lost) == 1 and sim.storage == {}


def test_a_storm_delivers_a_message_every_period_each_announced(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,0,0")
    sim.storm(every_ms=20, count=3)
    assert line.until('+CMTI: "SM",3') == ['+CMTI: "SM",1', '+CMTI: "SM",2', '+CMTI: "SM",3']
    assert sim.storm_texts == ["storm 0", "storm 1", "storm 2"] and not sim.storming
    assert [pdu.decode_deliver(sim.storage[i][1]).text for i in (1, 2, 3)] == sim.storm_texts
    sim.storm(every_ms=20)  # until stopped
    line.until('+CMTI: "SM",4')
    sim.stop_storm()
    # What the storm delivered before it was stopped is still announced, then nothing.
    late = ['+CMTI: "SM",%d' % i for i in range(5, len(sim.storm_texts) + 1)]
    assert not late or line.until(late[-1]) == late
    assert line.silent_for(0.2) == b"" and not sim.storming
    for every_ms, count in ((0, None), (-5, 3), (20, 0)):  # no pause, or nothing to do
        with pytest.raises(ValueError, match="storm needs every_ms > 0"):
            sim.storm(every_ms=every_ms, count=count)
    assert not sim.storming


# -- sending and status reports ------------------------------------------------------------


def test_send_answers_with_a_message_reference_that_wraps_at_255(modem):
    sim, line = modem
    sim.next_mr = 254
    refs = [send_sms(line, "n%d" % i) for i in range(3)]
    assert refs == [["+CMGS: 254", "OK"], ["+CMGS: 255", "OK"], ["+CMGS: 0", "OK"]]
    assert sim.sent_texts() == [(CUSTOMER, "n0"), (CUSTOMER, "n1"), (CUSTOMER, "n2")]


def test_esc_at_the_prompt_cancels_and_bad_lengths_are_refused(modem):
    sim, line = modem
    line.send("AT+CMGS=20\r")
    line.wait_bytes(b"> ")
    line.send("0011\x1b")
    assert line.until(is_final) == ["OK"]
    hex_pdu, length = submit_pdu()
    assert send_sms(line, hex_pdu=hex_pdu, length=length + 1) == ["+CMS ERROR: 304"]
    assert line.cmd("AT+CMGS=3") == ["+CMS ERROR: 304"]
    assert sim.sent == []


def test_left_at_a_prompt_only_esc_gets_out(modem):
    sim, line = modem
    sim.leave_at_prompt()
    line.send("AT\r")
    assert line.silent_for(0.2) == b""  # the command is taken for PDU digits
    line.send("\x1b")
    assert line.until(is_final) == ["OK"]
    line.ok("AT")


def test_status_report_directly_as_cds(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,1,0")
    assert send_sms(line, report=True) == ["+CMGS: 0", "OK"]
    header, hex_pdu = line.until(lambda l: not l.startswith("+CDS"))
    assert header == "+CDS: %d" % (len(hex_pdu) // 2 - 1)
    assert report_fields(hex_pdu) == (0, CUSTOMER, 0x00)


def test_status_report_stored_in_sr_and_announced(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,2,0")
    sim.set_report_outcome(CUSTOMER, "permanent")
    send_sms(line, report=True)
    assert line.until(lambda l: l.startswith("+CDSI:")) == ['+CDSI: "SR",1']
    line.ok('AT+CPMS="SR"')
    _, hex_pdu = line.ok("AT+CMGR=1")
    assert report_fields(hex_pdu) == (0, CUSTOMER, 0x41)


def test_cdsi_quirk_names_sm_for_a_report_stored_in_sr(open_sim):
    sim, line = open_sim(cdsi_wrong_memory=True)
    line.ok("AT+CNMI=2,1,0,2,0")
    send_sms(line, report=True)
    assert line.until(lambda l: l.startswith("+CDSI:")) == ['+CDSI: "SM",1']
    assert sim.storage == {} and list(sim.memories["SR"].slots) == [1]


def test_reports_in_sm_are_kept_with_the_messages_and_announced_there(open_sim):
    sim, line = open_sim(reports_in="SM")
    line.ok("AT+CNMI=2,1,0,2,0")
    sim.deliver(CUSTOMER, "a message first")
    line.until('+CMTI: "SM",1')
    send_sms(line, report=True)
    assert line.until(lambda l: l.startswith("+CDSI:")) == ['+CDSI: "SM",2']
    assert sim.memories["SR"].slots == {}
    lines = line.ok("AT+CMGL=4")
    assert report_fields(lines[3]) == (0, CUSTOMER, 0x00)  # slot 2, after the message


def test_a_modem_without_sr_memory(open_sim):
    sim, line = open_sim(sr_memory=False, reports_in="SM")
    assert line.ok("AT+CPMS=?") == ['+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")']
    assert line.cmd('AT+CPMS="SR"') == ["+CMS ERROR: 302"]
    assert "SR" not in sim.memories


def test_sr_select_ignored_answers_ok_and_stays_in_the_message_memory(open_sim):
    sim, line = open_sim(sr_select_ignored=True)
    sim.deliver(CUSTOMER, "still listed")
    assert line.ok("AT+CPMS=?") == ['+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")']
    assert line.ok('AT+CPMS="SR"') == ["+CPMS: 1,30,1,30,1,30"]
    assert line.ok("AT+CPMS?")[0].startswith('+CPMS: "SM",1,30')
    assert listed(line.ok("AT+CMGL=4")) == [1]


def test_no_report_routed_with_ds0_and_none_unless_requested(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,0,0")
    send_sms(line, report=True)
    send_sms(line, report=False)
    assert line.silent_for(0.2) == b""
    assert len(sim.reports) == 1 and sim.memories["SR"].slots == {}


# -- calls ----------------------------------------------------------------------------------


def test_caller_gives_up_after_rings_with_clip(modem):
    sim, line = modem
    line.ok("AT+CLIP=1")
    sim.call(CUSTOMER, rings=2)
    clip = '+CLIP: "%s",145,"",0,"",0' % CUSTOMER
    assert line.until("NO CARRIER") == ["RING", clip, "RING", clip, "NO CARRIER"]
    assert (sim.calls[0].rings, sim.calls[0].ended_by) == (2, "caller")


@pytest.mark.parametrize("hangup", ["ATH", "AT+CHUP"])
def test_hang_up_with_crc_rings(modem, hangup):
    sim, line = modem
    line.ok("AT+CRC=1")
    sim.call("07700900123")
    assert line.until("+CRING: VOICE") == ["+CRING: VOICE"]  # no +CLIP: not asked for
    line.until("+CRING: VOICE")
    line.send(hangup + "\r")
    line.until("OK")
    assert line.silent_for(0.15) == b""
    assert sim.calls[0].ended_by == "modem" and sim.calls[0].rings >= 2


# -- reset, health, noise ------------------------------------------------------------------


def test_cfun_reset_reboots_with_urcs_and_default_settings(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,0,0")
    assert line.cmd("AT+CFUN=1,1")[-1] == "OK"
    assert line.until("SMS Ready") == ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"]
    assert line.cmd("AT+CNMI?") == ["AT+CNMI?", "+CNMI: 0,0,0,0,0", "OK"]  # echo is back on


def test_reboot_without_sim_stops_at_the_sim_check(open_sim):
    sim, line = open_sim(sim_present=False)
    line.ok("AT+CFUN=1,1")
    assert line.until("+CPIN: NOT INSERTED") == ["RDY", "+CFUN: 1", "+CPIN: NOT INSERTED"]
    assert line.cmd("AT+CMGL=4") == ["AT+CMGL=4", "ERROR"]  # CMEE is back to 0 as well


def test_signal_registration_and_sim_state(modem):
    sim, line = modem
    assert line.ok("AT+CSQ") == ["+CSQ: 21,0"]
    sim.set_signal(7, 3)
    assert line.ok("AT+CSQ") == ["+CSQ: 7,3"]
    assert line.ok("AT+CREG?") == ["+CREG: 0,1"]
    line.ok("AT+CREG=1")
    sim.set_registration(2)
    assert line.until("+CREG: 2") == ["+CREG: 2"]
    assert line.ok("AT+CREG?") == ["+CREG: 1,2"]
    assert line.cmd("AT+CEREG?") == ["ERROR"]  # a 2G modem
    assert send_sms(line) == ["+CMS ERROR: 331"]  # not registered: no service
    sim.set_sim_present(False)
    assert line.until("+CPIN: NOT INSERTED") == ["+CPIN: NOT INSERTED"]
    assert line.cmd("AT+CPIN?") == ["+CME ERROR: 10"]
    assert line.cmd("AT+CMGL=4") == ["+CMS ERROR: 310"]


def test_vendor_noise(modem):
    sim, line = modem
    sim.noise('+QIND: "csq",20,99')
    assert line.until(lambda l: True) == ['+QIND: "csq",20,99']


# -- pacing and faults ----------------------------------------------------------------------


def test_output_is_paced_at_the_line_rate(modem):
    sim, line = modem
    start = time.monotonic()
    sim.inject_garbage(b"x" * 10240)
    got = 0
    while got < 10240:
        got += len(line.port.read(10240 - got))
        assert time.monotonic() - start < 10
    # 8N1 at 115200 baud carries 11520 bytes/s; never faster than 90 % of that.
    assert time.monotonic() - start >= 0.9 * 10240 / 11520


def test_input_is_accepted_at_the_line_rate(modem):
    sim, line = modem
    start = time.monotonic()
    line.send(b"x" * 10240 + b"\rAT\r")
    assert line.until("OK", timeout=10)[-2:] == ["ERROR", "OK"]
    assert time.monotonic() - start >= 0.9 * 10244 / 11520


def test_latency_delays_each_answer(open_sim):
    sim, line = open_sim(latency_ms=150)
    start = time.monotonic()
    line.ok("AT")
    assert time.monotonic() - start >= 0.15


def test_garbage_on_the_line_does_not_upset_the_modem(modem):
    sim, line = modem
    sim.inject_garbage(b"\xff\x00\xfe junk")
    line.wait_bytes(b"\xff\x00\xfe junk")
    line.ok("AT")


def test_dropped_final_results(modem):
    sim, line = modem
    sim.drop_responses(1)
    line.send("AT+CSQ\r")
    assert line.until("+CSQ: 21,0") == ["+CSQ: 21,0"]
    assert line.silent_for(0.2) == b""
    line.ok("AT")


def test_failed_sends(modem):
    sim, line = modem
    sim.fail_sends(2)
    assert send_sms(line) == ["+CMS ERROR: 500"]
    assert send_sms(line) == ["+CMS ERROR: 500"]
    sim.fail_sends(1, code=332)
    assert send_sms(line) == ["+CMS ERROR: 332"]
    assert send_sms(line) == ["+CMGS: 0", "OK"]


def test_a_hung_modem_answers_nothing_until_unhung(modem):
    sim, line = modem
    line.ok("AT+CNMI=2,1,0,0,0")
    sim.hang()
    line.send("AT\r")
    sim.deliver(CUSTOMER, "stored, but nobody is told")
    assert line.silent_for(0.3) == b""
    sim.unhang()
    line.ok("AT")
    assert listed(line.ok("AT+CMGL=4")) == [1]


def test_the_port_vanishes_and_reappears(modem):
    sim, line = modem
    sim.deliver(CUSTOMER, "survives")
    sim.vanish()
    assert not os.path.exists(sim.link)
    with pytest.raises(serial.SerialException):
        for _ in range(50):
            line.port.read(1)
            line.port.write(b"AT\r")
    line.close()
    sim.reappear()
    again = Line(sim.link)
    try:
        assert again.cmd("AT") == ["AT", "OK"]  # it rebooted: echo is on again
        assert listed(again.ok("AT+CMGL=4")) == [1]
    finally:
        again.close()


def test_stop_is_prompt_and_leaves_nothing_running(tmp_path):
    sim = ModemSim(str(tmp_path / "modem"), **FAST).start()
    sim.call(CUSTOMER)
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 1.0
    assert not sim._thread.is_alive() and not os.path.lexists(sim.link)


def test_command_line_simulator_takes_control_requests(tmp_path):
    """`branchline-tools modem-sim --control`: the ops a technician or a test rig uses."""
    link, sock = str(tmp_path / "modem"), str(tmp_path / "modem.sock")
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.cli", "modem-sim", "--link", link,
                             "--control", sock, "--ring-period", "0.05"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        assert control.request(sock, {"op": "sms", "from": CUSTOMER, "text": "hi"}) == {"slots": [1]}
        assert control.request(sock, {"op": "storage"}) == {"slots": [1]}
        assert control.request(sock, {"op": "storm", "ms": 10, "count": 2}) == {"ok": True}
        deadline = time.monotonic() + 5
        while control.request(sock, {"op": "storage"})["slots"] != [1, 2, 3]:
            assert time.monotonic() < deadline, "the storm delivered nothing"
            time.sleep(0.02)
        line = Line(link)
        try:
            line.ok("ATE0")
            control.request(sock, {"op": "signal", "rssi": 9, "ber": 1})
            assert line.ok("AT+CSQ") == ["+CSQ: 9,1"]
            control.request(sock, {"op": "call", "from": CUSTOMER, "rings": 1})
            assert line.until("NO CARRIER") == ["RING", "NO CARRIER"]
            calls = control.request(sock, {"op": "calls"})["calls"]
            assert calls == [{"from": CUSTOMER, "rings": 1, "ended_by": "caller"}]
            control.request(sock, {"op": "fail_sends", "n": 1, "code": 500})
            assert send_sms(line) == ["ERROR"]  # CMEE is 0 here
        finally:
            line.close()
        answer = control.request(sock, {"op": "nonsense"})
        assert "unknown op" in answer["error"] and "vanish" in answer["error"]
        assert json.dumps(control.request(sock, {"op": "sent"})) == '{"sent": []}'
    finally:
        proc.terminate()
        assert proc.wait(5) == 0
