"""Modem driver: init, sweep, +CMTI -> read -> (journal) -> delete, and sending in PDU mode."""

from check import drain

from branchline.proto import at, modem, modem_events, pdu

SCTS = (2026, 11, 26, 9, 30, 0, 32)


def answer(lines=()):
    """An answer the way modems frame it: each line between CR LFs, then OK."""
    return b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines) + b"\r\nOK\r\n"


def tpdu_octets(line):
    """The <length> a modem announces for a stored PDU line: its TPDU octets (after the
    one-octet empty SMSC prefix these tests use), whatever junk the line ends with."""
    digits = 0
    while digits < len(line) and line[digits] in "0123456789ABCDEFabcdef":
        digits += 1
    return digits // 2 - 1


def ok(driver, now=0, lines=()):
    driver.receive_data(answer(lines), now)


class FakeModem:
    """Answers the driver's commands as a modem keeping `sm`, `sr` and `me` ({slot: PDU
    line}) would. `memories`: the ones it has (selecting another is refused), which
    AT+CPMS=? lists unless lists=False (an old modem); select_ignored: the memories whose
    AT+CPMS="<memory>" answers OK and changes nothing; cpms_says: what AT+CPMS? names as
    the read memory after such a selection (a modem that lies about it), by default the
    truth. `listed`: the memory each AT+CMGL listed."""

    def __init__(self, sm=(), sr=(), me=(), memories=("SM", "ME", "SR"), lists=True,
                 select_ignored=(), cpms_says=None):
        self.memory = {"SM": dict(sm), "SR": dict(sr), "ME": dict(me)}
        self.memories = memories
        self.lists = lists
        self.select_ignored = select_ignored
        self.cpms_says = cpms_says
        self.read = "SM"
        self.claimed = None  # what AT+CPMS? names instead of the truth
        self.commands = []
        self.listed = []

    def answer(self, text):
        self.commands.append(text)
        mem = self.memory[self.read]
        if text == "AT+CPMS=?":
            if not self.lists:
                return b"\r\nERROR\r\n"
            names = ",".join('"%s"' % name for name in self.memories)
            return answer(['+CPMS: (%s),("SM","ME"),("SM","ME")' % names])
        if text.startswith('AT+CPMS="') and "," not in text:  # the read memory only
            name = text[9:-1]
            if name not in self.memories:
                return b"\r\n+CMS ERROR: 302\r\n"
            if name in self.select_ignored:
                self.claimed = self.cpms_says
            else:
                self.read = name
            return answer(["+CPMS: 0,20,0,30,0,30"])
        if text.startswith("AT+CPMS="):
            self.read = "SM"
            self.claimed = None
            return answer(["+CPMS: 0,30,0,30,0,30"])
        if text == "AT+CPMS?":
            return answer(['+CPMS: "%s",0,30,"SM",0,30,"SM",0,30' % (self.claimed or self.read)])
        if text == "AT+CMGL=4":
            self.listed.append(self.read)
            listing = []
            for slot in sorted(mem):
                listing += ["+CMGL: %d,1,,%d" % (slot, tpdu_octets(mem[slot])), mem[slot]]
            return answer(listing)
        if text.startswith("AT+CMGR="):
            line = mem.get(int(text[8:]))
            return answer([] if line is None else ["+CMGR: 1,,%d" % tpdu_octets(line), line])
        if text.startswith("AT+CMGD="):
            mem.pop(int(text[8:]), None)
        return answer()


def release(d, ev, now=0):
    """What the port does once an event is journaled: free the slot it came from."""
    if isinstance(ev, (modem_events.SmsReceived, modem_events.SmsUndecodable)) and ev.slot is not None:
        d.delete(ev.slot, now)
    elif isinstance(ev, modem_events.StatusReport) and ev.slot is not None:
        d.delete_report(ev.slot, now, ev.memory)


def converse(d, fake, now=0, journal=False):
    """Let `d` talk to `fake` until it waits for nothing. With journal, every event is
    taken as the port would (released once durable) and they are returned; otherwise
    they wait in the driver."""
    events = []
    for _ in range(500):
        if journal:
            for ev in drain(d):
                events.append(ev)
                release(d, ev, now)
        command = d.engine.current
        d.data_to_send()
        if command is None:
            return events
        d.receive_data(fake.answer(command.text), now)
    raise AssertionError("the driver never stops talking: %r" % fake.commands[-8:])


def started(stored=(), direct=False, fake=None):
    """A driver through init and the start-up sweeps; the first finds `stored` (slot, hex)."""
    d = modem.ModemDriver(direct=direct)
    d.start(0)
    assert d.data_to_send() == b"\x1b"
    d.tick(at.DRAIN_MS)
    converse(d, fake or FakeModem(sm=stored))
    return d


def test_init_sends_the_documented_commands_then_sweeps_storage():
    d = modem.ModemDriver()
    d.start(0)
    d.tick(at.DRAIN_MS)
    written = []
    for _ in modem.init_commands(False):
        written.append(d.data_to_send())
        ok(d)
    written.append(d.data_to_send())
    text = b"".join(written).decode()
    for command in modem.init_commands(False):
        assert command + "\r" in text
    assert text.endswith("AT+CMGL=4\r")
    ok(d)
    evs = drain(d)
    assert isinstance(evs[-1], modem_events.ModemReady) and d.ready


def test_messages_found_by_the_sweep_are_reported():
    hex_pdu = pdu.encode_deliver("+8613800138000", "你好", SCTS)[0]
    d = started(stored=[(4, hex_pdu)])
    evs = [e for e in drain(d) if isinstance(e, modem_events.SmsReceived)]
    assert len(evs) == 1 and evs[0].slot == 4 and evs[0].message.text == "你好"


def test_cmti_reads_the_slot_and_delete_waits_for_the_caller():
    d = started()
    drain(d)
    d.data_to_send()
    d.receive_data(b'\r\n+CMTI: "SM",3\r\n', 5)
    assert d.data_to_send() == b"AT+CMGR=3\r"
    hex_pdu = pdu.encode_deliver("+447700900123", "Hello branch", SCTS)[0]
    ok(d, lines=("+CMGR: 0,,%d" % (len(hex_pdu) // 2 - 1), hex_pdu))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsReceived)
    assert ev.message.sender == "+447700900123" and ev.message.text == "Hello branch"
    assert d.data_to_send() == b""  # nothing is deleted before the journal says so
    d.delete(3, 6)
    assert d.data_to_send() == b"AT+CMGD=3\r"
    ok(d)
    (deleted,) = drain(d)
    assert isinstance(deleted, modem_events.SmsDeleted) and deleted.slot == 3


def test_a_repeated_cmti_for_a_slot_being_handled_is_not_read_twice():
    d = started()
    drain(d)
    d.data_to_send()
    d.receive_data(b'\r\n+CMTI: "SM",3\r\n+CMTI: "SM",3\r\n', 5)
    assert d.data_to_send() == b"AT+CMGR=3\r"
    assert d.engine.busy and not d.engine._queue


def test_an_undecodable_pdu_is_reported_with_its_reason():
    d = started()
    drain(d)
    d.receive_data(b'\r\n+CMTI: "SM",1\r\n', 5)
    ok(d, lines=("+CMGR: 0,,5", "0791FFFF"))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsUndecodable) and ev.slot == 1 and ev.reason


def test_a_pdu_line_ending_in_junk_is_decoded_and_the_junk_reported():
    hex_pdu = pdu.encode_deliver("+447700900123", "Hello branch", SCTS)[0]
    header = "+CMGR: 0,,%d" % (len(hex_pdu) // 2 - 1)
    d = started()
    drain(d)
    d.receive_data(b'\r\n+CMTI: "SM",3\r\n', 5)
    ok(d, lines=(header, hex_pdu + '"'))
    junk, ev = drain(d)
    assert isinstance(junk, modem_events.PduJunk)
    assert (junk.memory, junk.slot, junk.junk) == ("SM", 3, '"')
    assert isinstance(ev, modem_events.SmsReceived) and ev.message.text == "Hello branch"
    assert ev.pdu == hex_pdu  # what the fingerprint is made of: as if no junk had come
    # The start-up sweep, with junk of another kind.
    d = started(stored=[(5, hex_pdu + '",')])
    junk, ev = [e for e in drain(d) if not isinstance(e, modem_events.ModemReady)]
    assert (junk.slot, junk.junk) == (5, '",')
    assert ev.slot == 5 and ev.pdu == hex_pdu and ev.message.text == "Hello branch"
    # Junk with hex digits in it: the announced length says where the PDU ends.
    d = started(stored=[(6, hex_pdu + ",0")])
    junk, ev = [e for e in drain(d) if not isinstance(e, modem_events.ModemReady)]
    assert (junk.slot, junk.junk) == (6, ",0")
    assert ev.pdu == hex_pdu and ev.message.text == "Hello branch"


def test_a_message_cut_short_by_the_modem_is_received_marked_not_undecodable():
    hex_pdu = pdu.encode_deliver("+447700900123", "Hello branch", SCTS)[0][:-4]
    d = started()
    drain(d)
    d.receive_data(b'\r\n+CMTI: "SM",2\r\n', 5)
    ok(d, lines=("+CMGR: 0,,%d" % (len(hex_pdu) // 2 - 1), hex_pdu))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsReceived) and ev.slot == 2
    assert ev.message.truncated and ev.message.text == "Hello bran"  # 9 octets: 10 septets


def test_send_goes_through_the_prompt_and_reports_the_message_reference():
    d = started()
    drain(d)
    d.data_to_send()
    d.send_sms(7, "+8613800138000", "您好", 10)
    command = d.data_to_send()
    assert command.startswith(b"AT+CMGS=") and command.endswith(b"\r")
    d.receive_data(b"\r\n> ", 11)
    payload = d.data_to_send()
    assert payload.endswith(b"\x1a")
    sent = pdu.decode_submit(payload[:-1].decode())
    assert sent.number == "+8613800138000" and sent.text == "您好"
    assert int(command[8:-1]) == len(payload[:-1]) // 2 - 1
    ok(d, lines=("+CMGS: 42",))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsSent) and ev.ref == 7 and ev.message_refs == [42]


def test_long_text_goes_out_part_by_part():
    d = started()
    drain(d)
    d.data_to_send()
    d.send_sms(1, "+447700900123", "x" * 200, 0)
    for mr in (1, 2):
        assert d.data_to_send().startswith(b"AT+CMGS=")
        d.receive_data(b"> ", 0)
        d.data_to_send()
        ok(d, lines=("+CMGS: %d" % mr,))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsSent) and ev.message_refs == [1, 2]


def test_a_send_error_fails_the_message_with_the_reason():
    d = started()
    drain(d)
    d.send_sms(3, "+447700900123", "hi", 0)
    d.receive_data(b"\r\n> ", 1)
    d.receive_data(b"\r\n+CMS ERROR: 500\r\n", 2)
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.SmsFailed) and ev.ref == 3 and "500" in ev.reason


def test_direct_delivery_is_acknowledged_only_when_asked():
    assert "AT+CSMS=1" in modem.init_commands(True)
    assert "AT+CNMI=2,2,0,1,0" in modem.init_commands(True)
    d = started(direct=True)
    drain(d)
    d.data_to_send()
    hex_pdu = pdu.encode_deliver("+447700900123", "direct", SCTS)[0]
    d.receive_data(b"\r\n+CMT: ,%d\r\n%s\r\n" % (len(hex_pdu) // 2 - 1, hex_pdu.encode()), 5)
    evs = [e for e in drain(d) if isinstance(e, modem_events.SmsReceived)]
    assert len(evs) == 1 and evs[0].slot is None and evs[0].message.text == "direct"
    assert b"CNMA" not in d.data_to_send()
    d.ack_direct(6)
    assert d.data_to_send() == b"AT+CNMA\r"
    ok(d)
    d.ack_direct(7)  # nothing more is owed: no stray acknowledgement
    assert d.data_to_send() == b""


def test_an_acknowledgement_does_not_wait_for_the_report_sweep():
    d = started(direct=True)
    drain(d)
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)  # sweep starts: read memory is SR
    hex_pdu = pdu.encode_deliver("+447700900123", "x", SCTS)[0]
    d.receive_data(b"\r\n+CMT: ,%d\r\n%s\r\n" % (len(hex_pdu) // 2 - 1, hex_pdu.encode()), 2)
    d.ack_direct(3)
    d.data_to_send()
    ok(d)  # AT+CPMS="SR"
    assert d.data_to_send() == b"AT+CNMA\r"  # as soon as it can, before the listing


def test_status_report_announced_in_any_memory_is_swept_from_sr():
    d = started()
    drain(d)
    d.data_to_send()
    report = pdu.encode_status_report(42, "+447700900123", SCTS, SCTS, 0)
    # The quirk: the report is kept in SR but announced as SM. SM slot 1 is read, in case
    # the report is kept there; it is not.
    d.receive_data(b'\r\n+CDSI: "SM",1\r\n', 5)
    assert d.data_to_send() == b"AT+CMGR=1\r"
    ok(d)
    assert d.data_to_send() == b'AT+CPMS="SR"\r'
    d.receive_data(b'\r\n+CMTI: "SM",4\r\n', 5)  # must wait: the read memory is SR now
    ok(d, lines=("+CPMS: 1,10,1,30,1,30",))
    assert d.data_to_send() == b"AT+CMGL=4\r"
    ok(d, lines=("+CMGL: 1,1,,%d" % (len(report) // 2 - 1), report))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.StatusReport) and ev.report.message_ref == 42
    assert ev.report.status_kind == "delivered" and ev.slot == 1
    assert d.data_to_send() == b'AT+CPMS="SM","SM","SM"\r'  # not deleted: not durable yet
    ok(d)
    assert d.data_to_send() == b"AT+CMGR=4\r"  # the held read goes out after the switch back
    ok(d)
    # Durable now: deleted in a transaction of its own.
    d.delete_report(1, 6, "SR")
    assert d.data_to_send() == b'AT+CPMS="SR"\r'
    ok(d)
    assert d.data_to_send() == b"AT+CMGD=1\r"
    ok(d)
    assert d.data_to_send() == b'AT+CPMS="SM","SM","SM"\r'


def test_a_report_waiting_for_the_journal_is_not_reported_twice():
    d = started()
    drain(d)
    report = pdu.encode_status_report(7, "+447700900123", SCTS, SCTS, 0)
    listing = ("+CMGL: 3,1,,%d" % (len(report) // 2 - 1), report)
    for _ in range(2):
        d.receive_data(b'\r\n+CDSI: "SR",3\r\n', 1)
        ok(d)
        ok(d, lines=listing)
        ok(d)
    assert len([e for e in drain(d) if isinstance(e, modem_events.StatusReport)]) == 1


def test_direct_status_report():
    d = started()
    drain(d)
    report = pdu.encode_status_report(7, "+8613800138000", SCTS, SCTS, 0x45)
    d.receive_data(b"\r\n+CDS: %d\r\n%s\r\n" % (len(report) // 2 - 1, report.encode()), 1)
    (ev,) = drain(d)
    assert ev.report.message_ref == 7 and ev.report.status_kind == "failed"


def test_incoming_call_reports_number_and_rings_then_hang_up():
    d = started()
    drain(d)
    d.data_to_send()
    d.receive_data(b'\r\n+CRING: VOICE\r\n\r\n+CLIP: "+447700900123",145,"",0,"",0\r\n', 1)
    evs = drain(d)
    assert [(e.number, e.rings) for e in evs] == [(None, 1), ("+447700900123", 1)]
    d.receive_data(b'\r\nRING\r\n\r\n+CLIP: "+447700900123",145,"",0,"",0\r\n', 2)
    assert [(e.number, e.rings) for e in drain(d)] == [("+447700900123", 2)]
    d.hang_up(3)
    assert d.data_to_send() == b"ATH\r"
    ok(d)
    (ended,) = drain(d)
    assert isinstance(ended, modem_events.CallEnded) and ended.by_us and ended.rings == 2


def test_data_calls_are_not_customers():
    d = started()
    drain(d)
    d.receive_data(b"\r\n+CRING: REL ASYNC\r\n", 1)
    assert drain(d) == []


def test_health_poll_combines_gsm_and_lte_registration():
    d = started()
    drain(d)
    d.data_to_send()
    d.poll_health(0)
    ok(d, lines=("+CSQ: 21,0",))
    ok(d, lines=("+CPIN: READY",))
    ok(d, lines=("+CREG: 0,0",))
    ok(d, lines=("+CEREG: 0,5",))
    (health,) = drain(d)
    assert health.as_dict() == {
        "rssi_dbm": -71, "registered": True, "roaming": True, "sim_ready": True,
        "technology": "LTE",
    }


def test_sim_missing_and_no_network_show_in_health():
    d = started()
    drain(d)
    d.poll_health(0)
    d.receive_data(b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n\r\n+CME ERROR: 10\r\n", 1)
    d.receive_data(b"\r\n+CREG: 0,2\r\n\r\nOK\r\n\r\nERROR\r\n", 2)
    (health,) = drain(d)
    assert health.rssi_dbm is None and health.sim_ready is False and health.registered is False


def test_consecutive_timeouts_declare_the_modem_unresponsive():
    d = started()
    drain(d)
    d.poll_health(0)
    for t in range(0, 30000, 500):
        d.tick(t)
    evs = drain(d)
    assert any(isinstance(e, modem_events.ModemUnresponsive) for e in evs)


def test_a_modem_reboot_is_noticed_and_initialisation_runs_again():
    d = started()
    drain(d)
    d.data_to_send()
    d.receive_data(b"\r\nRDY\r\n", 1)
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.ModemRebooted)
    d.tick(1 + at.DRAIN_MS)
    assert d.data_to_send() == b"\x1bAT\r" and not d.ready
    d.receive_data(b"\r\nSMS Ready\r\n", 2)  # part of the same reboot: no second init
    assert drain(d) == []


def test_temporary_and_permanent_send_failures_are_told_apart():
    d = started()
    drain(d)
    d.send_sms(1, "+447700900123", "hi", 0)
    d.receive_data(b"\r\n> ", 1)
    d.receive_data(b"\r\n+CMS ERROR: 332\r\n", 2)
    (temp,) = drain(d)
    assert temp.kind == "temporary" and "332" in temp.reason
    d.send_sms(2, "+447700900123", "hi", 3)
    d.receive_data(b"\r\n> ", 4)
    d.receive_data(b"\r\n+CMS ERROR: 304\r\n", 5)
    (perm,) = drain(d)
    assert perm.kind == "permanent" and "304" in perm.reason
    d.send_sms(3, "+447700900123", "hi", 6)
    d.receive_data(b"\r\n> ", 7)
    d.receive_data(b"\r\n+CMS ERROR: 310\r\n", 8)  # SIM not inserted
    (other,) = drain(d)
    assert other.kind == "modem"


def test_the_report_sweep_never_deletes_a_customers_message():
    d = started()
    drain(d)
    d.data_to_send()
    message = pdu.encode_deliver("+447700900123", "keep me", SCTS)[0]
    # A modem without "SR" memory: the select fails, and nothing is listed or deleted.
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    d.receive_data(b"\r\nERROR\r\n", 2)
    assert d.data_to_send() == b'AT+CPMS="SR"\rAT+CPMS="SM","SM","SM"\r'
    # The select worked but the memory holds a message that is not a report.
    d2 = started()
    drain(d2)
    d2.data_to_send()
    d2.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    ok(d2)
    ok(d2, lines=("+CMGL: 1,0,,%d" % (len(message) // 2 - 1), message))
    (concluded,) = drain(d2)  # a selection that changed nothing: "SR" is left alone now
    assert isinstance(concluded, modem_events.NoReportMemory) and "no effect" in concluded.reason
    assert b"CMGD" not in d2.data_to_send()
def test_a_caller_who_gives_up_ends_the_call():
    d = started()
    drain(d)
    d.receive_data(b'\r\nRING\r\n\r\n+CLIP: "+447700900123",145,"",0,"",0\r\n', 1)
    drain(d)
    d.receive_data(b"\r\nNO CARRIER\r\n", 2)
    (ended,) = drain(d)
    assert isinstance(ended, modem_events.CallEnded) and not ended.by_us
    assert ended.number == "+447700900123" and ended.rings == 1


CUSTOMER = "+447700900123"


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_stored_pdus_are_taken_for_what_their_tp_mti_says():
    message = pdu.encode_deliver(CUSTOMER, "hello", SCTS)[0]
    report = pdu.encode_status_report(42, CUSTOMER, SCTS, SCTS, 0)
    ((draft, _),) = pdu.encode_submit(CUSTOMER, "a draft written with AT+CMGW")
    fake = FakeModem(sm={1: message, 2: report, 3: draft})
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    (received,) = of(events, modem_events.SmsReceived)
    (status,) = of(events, modem_events.StatusReport)
    (ignored,) = of(events, modem_events.PduIgnored)
    assert received.slot == 1 and received.message.text == "hello"
    assert (status.slot, status.memory, status.report.message_ref) == (2, "SM", 42)
    assert (ignored.memory, ignored.slot) == ("SM", 3) and "draft" in ignored.reason
    assert not of(events, modem_events.SmsUndecodable)
    # The report went the way of a message (AT+CMGD in the message memory); the draft stays.
    assert fake.memory["SM"] == {3: draft} and "AT+CMGD=3" not in fake.commands
    d.sweep(1)  # the health sweep lists the draft again: nothing more to say or do
    assert converse(d, fake, journal=True) == [] and fake.memory["SM"] == {3: draft}


def test_a_report_kept_with_the_messages_is_read_where_cdsi_or_cmti_says():
    fake = FakeModem()
    d = started(fake=fake)
    converse(d, fake, journal=True)
    for slot, urc in ((4, b'+CDSI: "SM",4'), (5, b'+CMTI: "SM",5')):
        fake.memory["SM"][slot] = pdu.encode_status_report(slot, CUSTOMER, SCTS, SCTS, 0)
        d.receive_data(b"\r\n" + urc + b"\r\n", 1)
        events = converse(d, fake, journal=True)
        (status,) = of(events, modem_events.StatusReport)
        assert not of(events, modem_events.SmsUndecodable), urc
        assert (status.slot, status.memory, status.report.message_ref) == (slot, "SM", slot)
        assert fake.memory["SM"] == {}


def test_a_modem_without_sr_memory_is_never_asked_for_it():
    message = pdu.encode_deliver(CUSTOMER, "hello", SCTS)[0]
    fake = FakeModem(sm={1: message}, memories=("SM", "ME"))
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    (concluded,) = of(events, modem_events.NoReportMemory)
    assert '"SR" is not among' in concluded.reason and len(of(events, modem_events.SmsReceived)) == 1
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    assert d.data_to_send() == b""
    assert 'AT+CPMS="SR"' not in fake.commands and fake.listed == ["SM", "ME"]


def test_an_sr_selection_that_is_refused_is_not_asked_again():
    # No capability answer, so "SR" is tried once: its refusal settles it.
    fake = FakeModem(memories=("SM", "ME"), lists=False)
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    (concluded,) = of(events, modem_events.NoReportMemory)
    assert "refused" in concluded.reason
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    converse(d, fake, now=1)
    d.sweep(2)
    converse(d, fake, now=2)
    assert fake.commands.count('AT+CPMS="SR"') == 1


def test_an_sr_selection_that_changes_nothing_is_noticed_once():
    stored = dict((slot, pdu.encode_deliver(CUSTOMER, "m%d" % slot, SCTS)[0]) for slot in (1, 2, 3))
    fake = FakeModem(sm=stored, select_ignored=("SR",))
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    assert sorted(e.slot for e in of(events, modem_events.SmsReceived)) == [1, 2, 3]
    (concluded,) = of(events, modem_events.NoReportMemory)
    assert "no effect" in concluded.reason and not of(events, modem_events.ModemProblem)
    assert fake.listed == ["SM", "ME"]  # the messages are listed once, not twice
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    assert d.data_to_send() == b""
    assert fake.commands.count('AT+CPMS="SR"') == 1


def test_an_sr_listing_of_messages_shows_the_selection_did_nothing():
    # A modem whose AT+CPMS? claims "SR" is selected when it is not.
    stored = dict((slot, pdu.encode_deliver(CUSTOMER, "m%d" % slot, SCTS)[0]) for slot in (1, 2))
    fake = FakeModem(sm=stored, select_ignored=("SR",), cpms_says="SR")
    d = started(fake=fake)
    d.delete_report(7, 0, "SR")  # a report from before the listing showed what "SR" is: dropped
    events = converse(d, fake, journal=True)
    assert sorted(e.slot for e in of(events, modem_events.SmsReceived)) == [1, 2]
    assert len(of(events, modem_events.NoReportMemory)) == 1 and not of(events, modem_events.ModemProblem)
    assert not of(events, modem_events.StatusReport) and "AT+CMGD=7" not in fake.commands
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n', 1)
    assert d.data_to_send() == b""


def test_urcs_during_the_start_up_drain_are_acted_on_after_init_once():
    stored = dict((slot, pdu.encode_deliver(CUSTOMER, "m%d" % slot, SCTS)[0]) for slot in range(1, 10))
    fake = FakeModem(sm=stored)
    d = modem.ModemDriver()
    d.start(0)
    assert d.data_to_send() == b"\x1b"
    t = 0
    announced = 0
    while True:  # a +CMTI every 50 ms, as deliveries pour in while the port opens
        t += 50
        announced += 1
        d.receive_data(b'\r\n+CMTI: "SM",%d\r\n' % announced, t)
        if d.data_to_send() == b"AT\r":
            break
        assert t < at.DRAIN_MS, "init held back by URCs"
    assert announced == at.DRAIN_MS // 50
    events = converse(d, fake, t, journal=True)
    assert sorted(e.slot for e in of(events, modem_events.SmsReceived)) == list(range(1, 10))
    for slot in range(1, announced + 1):  # read once, after the sweep that skipped them
        assert fake.commands.count("AT+CMGR=%d" % slot) == 1, slot
    assert fake.commands.index("AT+CMGL=4") < fake.commands.index("AT+CMGR=1")
    assert fake.memory["SM"] == {}


def report_listing(slot, report):
    return ("+CMGL: %d,0,,%d" % (slot, len(report) // 2 - 1), report)


def test_a_report_announced_in_me_is_listed_and_deleted_there_inside_a_switch():
    # No AT+CPMS=? answer: "ME" was not swept at start, so its selection is checked once.
    d = started(fake=FakeModem(lists=False))
    drain(d)
    report = pdu.encode_status_report(42, CUSTOMER, SCTS, SCTS, 0)
    d.receive_data(b'\r\n+CDSI: "ME",2\r\n', 5)
    assert d.data_to_send() == b'AT+CPMS="ME"\r'  # not AT+CMGR=2 of "SM", nor "SR"
    d.receive_data(b'\r\n+CMTI: "SM",4\r\n', 5)  # must wait: the read memory is ME now
    ok(d, lines=("+CPMS: 1,50,0,30,0,30",))
    assert d.data_to_send() == b"AT+CPMS?\r"
    ok(d, lines=('+CPMS: "ME",1,50,"SM",0,30,"SM",0,30',))
    assert d.data_to_send() == b"AT+CMGL=4\r"
    ok(d, lines=report_listing(2, report))
    (ev,) = drain(d)
    assert isinstance(ev, modem_events.StatusReport)
    assert (ev.slot, ev.memory, ev.report.message_ref) == (2, "ME", 42)
    assert d.data_to_send() == b'AT+CPMS="SM","SM","SM"\r'  # not deleted: not durable yet
    ok(d)
    assert d.data_to_send() == b"AT+CMGR=4\r"  # the held read goes out after the switch back
    ok(d)
    d.delete_report(2, 6, "ME")
    assert d.data_to_send() == b'AT+CPMS="ME"\r'  # checked already: no AT+CPMS? again
    ok(d)
    assert d.data_to_send() == b"AT+CMGD=2\r"
    ok(d)
    assert d.data_to_send() == b'AT+CPMS="SM","SM","SM"\r'
    ok(d)
    assert drain(d) == [] and d.data_to_send() == b""


def test_only_status_reports_are_taken_from_me_and_the_rest_is_told_once():
    message = pdu.encode_deliver(CUSTOMER, "left in the phone memory", SCTS)[0]
    ((draft, _),) = pdu.encode_submit(CUSTOMER, "a draft")
    kept = {1: message, 2: draft, 4: "00FF"}
    me = dict(kept)
    me[3] = pdu.encode_status_report(3, CUSTOMER, SCTS, SCTS, 0)
    fake = FakeModem(me=me)
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    (status,) = of(events, modem_events.StatusReport)
    assert (status.slot, status.memory, status.report.message_ref) == (3, "ME", 3)
    ignored = of(events, modem_events.PduIgnored)
    assert sorted((e.memory, e.slot) for e in ignored) == [("ME", 1), ("ME", 2), ("ME", 4)]
    for kind in (modem_events.SmsReceived, modem_events.SmsUndecodable,
                 modem_events.NoReportMemory, modem_events.ModemProblem):
        assert not of(events, kind), kind  # a message in ME is no sign the selection failed
    assert fake.memory["ME"] == kept and fake.memory["SM"] == {}
    assert [c for c in fake.commands if c.startswith("AT+CMGD")] == ["AT+CMGD=3"]
    # Another report: the listing shows the rest again, and nothing more is said of it.
    fake.memory["ME"][3] = pdu.encode_status_report(4, CUSTOMER, SCTS, SCTS, 0)
    d.receive_data(b'\r\n+CDSI: "ME",3\r\n', 1)
    events = converse(d, fake, now=1, journal=True)
    assert [e.report.message_ref for e in of(events, modem_events.StatusReport)] == [4]
    assert not of(events, modem_events.PduIgnored) and fake.memory["ME"] == kept


def test_the_start_up_sweep_lists_me_only_when_the_modem_lists_it_and_sm_once():
    message = pdu.encode_deliver(CUSTOMER, "hello", SCTS)[0]
    report = pdu.encode_status_report(9, CUSTOMER, SCTS, SCTS, 0)
    for memories, lists, swept in ((("SM", "ME", "SR"), True, ["SM", "SR", "ME"]),
                                   (("SM", "ME"), True, ["SM", "ME"]),
                                   (("SM", "SR"), True, ["SM", "SR"]),
                                   (("SM", "ME", "SR"), False, ["SM", "SR"])):
        fake = FakeModem(sm={1: message}, me={2: report}, memories=memories, lists=lists)
        d = started(fake=fake)
        events = converse(d, fake, journal=True)
        assert fake.listed == swept, memories
        assert [e.slot for e in of(events, modem_events.SmsReceived)] == [1]
        reports = [(e.memory, e.slot) for e in of(events, modem_events.StatusReport)]
        assert reports == ([("ME", 2)] if "ME" in swept else []), memories
        assert fake.memory["ME"] == ({} if "ME" in swept else {2: report})
        assert not of(events, modem_events.ModemProblem)


def test_an_me_selection_that_changes_nothing_is_noticed_and_me_left_alone():
    stored = dict((slot, pdu.encode_deliver(CUSTOMER, "m%d" % slot, SCTS)[0]) for slot in (1, 2))
    fake = FakeModem(sm=stored, select_ignored=("ME",))
    d = started(fake=fake)
    events = converse(d, fake, journal=True)
    (concluded,) = of(events, modem_events.NoReportMemory)
    assert concluded.memory == "ME" and "no effect" in concluded.reason
    assert fake.listed == ["SM", "SR"]  # not the messages a second time, as if from ME
    assert sorted(e.slot for e in of(events, modem_events.SmsReceived)) == [1, 2]
    d.receive_data(b'\r\n+CDSI: "ME",1\r\n', 1)
    assert d.data_to_send() == b""
    assert fake.commands.count('AT+CPMS="ME"') == 1


def test_a_report_memory_the_modem_refuses_is_not_asked_again():
    fake = FakeModem(memories=("SM", "SR"))
    d = started(fake=fake)
    converse(d, fake, journal=True)
    for now in (1, 2):
        d.receive_data(b'\r\n+CDSI: "ME",1\r\n', now)
        converse(d, fake, now=now, journal=True)
    assert fake.commands.count('AT+CPMS="ME"') == 1 and "AT+CMGR=1" not in fake.commands
    assert fake.listed == ["SM", "SR"]


def test_report_memories_are_worked_on_one_at_a_time():
    fake = FakeModem(sr={1: pdu.encode_status_report(1, CUSTOMER, SCTS, SCTS, 0)})
    d = started(fake=fake)
    converse(d, fake, journal=True)  # the start-up sweep takes the SR report
    before = len(fake.commands)
    fake.memory["SR"][1] = pdu.encode_status_report(5, CUSTOMER, SCTS, SCTS, 0)
    fake.memory["ME"][2] = pdu.encode_status_report(6, CUSTOMER, SCTS, SCTS, 0)
    d.receive_data(b'\r\n+CDSI: "SR",1\r\n+CDSI: "ME",2\r\n', 1)
    converse(d, fake, now=1)
    back = 'AT+CPMS="SM","SM","SM"'
    # The +CDSI naming "ME" is believed: no extra sweep of "SR" for it.
    assert fake.commands[before:] == ['AT+CPMS="SR"', "AT+CMGL=4", back,
                                      'AT+CPMS="ME"', "AT+CMGL=4", back]
    events = converse(d, fake, now=1, journal=True)
    reports = sorted((e.memory, e.slot, e.report.message_ref) for e in of(events, modem_events.StatusReport))
    assert reports == [("ME", 2, 6), ("SR", 1, 5)]
    assert fake.memory["SR"] == {} and fake.memory["ME"] == {}


def test_a_cdsi_memory_that_is_no_name_is_taken_for_the_message_memory():
    d = started()
    drain(d)
    for urc, read in ((b'+CDSI: "SR";AT+CFUN=0;"",1', b"AT+CMGR=1\r"), (b"+CDSI: 3", b"AT+CMGR=3\r")):
        d.receive_data(b"\r\n" + urc + b"\r\n", 1)
        assert d.data_to_send() == read, urc  # what a +CDSI: "SM",<i> would do
        ok(d)
        written = b""
        for _ in range(3):  # the "SR" sweep "SM" is taken to mean as well
            written += d.data_to_send()
            ok(d)
        assert written == b'AT+CPMS="SR"\rAT+CMGL=4\rAT+CPMS="SM","SM","SM"\r', urc
        assert d.data_to_send() == b""


def test_a_delete_whose_switch_got_no_answer_is_reported_again_by_the_next_listing():
    report = pdu.encode_status_report(8, CUSTOMER, SCTS, SCTS, 0)
    fake = FakeModem(me={2: report})
    d = started(fake=fake)
    (status,) = of(drain(d), modem_events.StatusReport)
    d.delete_report(status.slot, 1, status.memory)
    assert d.data_to_send() == b'AT+CPMS="ME"\r'
    t = 1 + d.engine.current.timeout_ms
    d.tick(t)  # no answer: nothing can be deleted in this transaction
    t += at.DRAIN_MS  # the engine waits out a late answer first
    d.tick(t)
    assert d.data_to_send() == b'AT+CPMS="SM","SM","SM"\r'
    ok(d, now=t)
    d.receive_data(b'\r\n+CDSI: "ME",3\r\n', t)
    events = converse(d, fake, now=t, journal=True)
    # Still in ME and no longer waiting for a delete: taken again, and deleted this time.
    assert [(e.memory, e.slot) for e in of(events, modem_events.StatusReport)] == [("ME", 2)]
    assert fake.memory["ME"] == {}
