"""Modem driver: init, sweep, +CMTI -> read -> (journal) -> delete, and sending in PDU mode."""

from check import drain

from branchline.proto import modem, pdu

SCTS = (2026, 11, 26, 9, 30, 0, 32)


def ok(driver, now=0, lines=()):
    body = b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines)
    driver.receive_data(body + b"\r\nOK\r\n", now)


def started(stored=()):
    """A driver through init and the start-up sweep, which finds `stored` (slot, hex) PDUs."""
    d = modem.ModemDriver()
    d.start(0)
    assert d.data_to_send().startswith(b"\x1bAT\r")
    for _ in modem.INIT_COMMANDS:
        ok(d)
    sweep = []
    for slot, hex_pdu in stored:
        sweep.append("+CMGL: %d,0,,%d" % (slot, len(hex_pdu) // 2 - 1))
        sweep.append(hex_pdu)
    ok(d, lines=sweep)
    return d


def test_init_sends_the_documented_commands_then_sweeps_storage():
    d = modem.ModemDriver()
    d.start(0)
    written = []
    for _ in modem.INIT_COMMANDS:
        written.append(d.data_to_send())
        ok(d)
    written.append(d.data_to_send())
    text = b"".join(written).decode()
    for command in modem.INIT_COMMANDS:
        assert command + "\r" in text
    assert text.endswith("AT+CMGL=4\r")
    ok(d)
    evs = drain(d)
    assert isinstance(evs[-1], modem.ModemReady) and d.ready


def test_messages_found_by_the_sweep_are_reported():
    hex_pdu = pdu.encode_deliver("+8613800138000", "你好", SCTS)[0]
    d = started(stored=[(4, hex_pdu)])
    evs = [e for e in drain(d) if isinstance(e, modem.SmsReceived)]
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
    assert isinstance(ev, modem.SmsReceived)
    assert ev.message.sender == "+447700900123" and ev.message.text == "Hello branch"
    assert d.data_to_send() == b""  # nothing is deleted before the journal says so
    d.delete(3, 6)
    assert d.data_to_send() == b"AT+CMGD=3\r"
    ok(d)
    (deleted,) = drain(d)
    assert isinstance(deleted, modem.SmsDeleted) and deleted.slot == 3


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
    assert isinstance(ev, modem.SmsUndecodable) and ev.slot == 1 and ev.reason


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
    assert isinstance(ev, modem.SmsSent) and ev.ref == 7 and ev.message_refs == [42]


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
    assert isinstance(ev, modem.SmsSent) and ev.message_refs == [1, 2]


def test_a_send_error_fails_the_message_with_the_reason():
    d = started()
    drain(d)
    d.send_sms(3, "+447700900123", "hi", 0)
    d.receive_data(b"\r\n> ", 1)
    d.receive_data(b"\r\n+CMS ERROR: 500\r\n", 2)
    (ev,) = drain(d)
    assert isinstance(ev, modem.SmsFailed) and ev.ref == 3 and "500" in ev.reason
