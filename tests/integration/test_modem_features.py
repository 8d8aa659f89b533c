"""The modem stack end to end: the real gateway process against simulated modems on
pseudo-terminals (calls, delivery reports, retries, direct delivery, faults, the pool,
safety), each check made from outside as a technician or head office would see it."""

import time

import pytest

from branchline.proto import pdu
from host_tools.modem_sim.storage import REC_READ, STO_UNSENT
from host_tools.sim_branch import SimulatedBranch

CUSTOMER = "+447700900123"


@pytest.fixture
def make_branch(tmp_path):
    made = []

    def make(gateway=True, **kwargs):
        kwargs.setdefault("config_overrides", {})
        kwargs["config_overrides"].setdefault("retry_backoff_s", [1, 1])
        b = SimulatedBranch(workdir=str(tmp_path / ("b%d" % len(made))), **kwargs)
        made.append(b)
        b.start(gateway=gateway)
        return b

    yield make
    for b in made:
        b.close()


def open_conversation(branch, text="Hello", number=CUSTOMER, desk=1, sim=None):
    """A customer writes, desk `desk` takes it; returns the conversation id."""
    (sim or branch.modem).deliver(number, text)
    branch.panel.press(desk, "AVAIL")
    assigned = branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    return int(assigned[-1]["conv"])


def conversation(branch, conv):
    status, body = branch.console("GET", "/api/conversations/%d" % conv)
    assert status == 200, body
    return body


def messages_shown(branch, conv=1):
    """The messages of conversation `conv` as the console shows them, once it exists."""
    status, body = branch.console("GET", "/api/conversations/%d" % conv)
    return body["messages"] if status == 200 else None


def delivery(branch, conv):
    return [d["state"] for d in conversation(branch, conv)["deliveries"]]


def test_missed_call_when_nobody_is_in_becomes_a_callback_request(make_branch):
    branch = make_branch(modem_options={"ring_period": 0.2})
    call = branch.modem.call(CUSTOMER)
    branch.wait_for("hung up", lambda: call.ended_by == "modem")
    assert call.rings == 1  # nobody available: at once, not after a few rings
    branch.wait_for("acknowledged by SMS", lambda: branch.modem.sent)
    number, text = branch.modem.sent_texts()[0]
    assert number == CUSTOMER and "call you back" in text
    status, state = branch.console("GET", "/api/state")
    # Calling again merges into the same request.
    second = branch.modem.call(CUSTOMER)
    branch.wait_for("second call ended", lambda: second.ended_by == "modem")
    branch.wait_for("merged", lambda: len(branch.gateway_has("journaled", kinds="call")) == 2)
    status, state = branch.console("GET", "/api/state")
    assert sum(q["waiting"] for q in state["queues"]) == 1
    assert len(branch.modem.sent) == 1  # one acknowledgement, not one per call
    branch.panel.press(1, "AVAIL")
    (assigned,) = branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    conv = conversation(branch, int(assigned["conv"]))
    assert conv["kind"] == "callback" and conv["customer"] == CUSTOMER
    assert [m["dir"] for m in conv["messages"]] == ["call", "auto", "call"]


def test_a_call_rings_a_while_when_an_agent_is_in(make_branch):
    branch = make_branch(modem_options={"ring_period": 0.2})
    branch.panel.press(1, "AVAIL")
    branch.panel.wait_led(1, "GREEN", 5)
    call = branch.modem.call(CUSTOMER)
    branch.wait_for("hung up", lambda: call.ended_by == "modem")
    assert call.rings == 2  # hangup_after_rings
    branch.wait_for("callback assigned", lambda: branch.gateway_has("offered"))


def test_a_caller_who_gives_up_still_gets_a_callback(make_branch):
    branch = make_branch(modem_options={"ring_period": 0.2},
                         modem_config={"hangup_after_rings": 20})
    branch.panel.press(1, "AVAIL")
    branch.panel.wait_led(1, "GREEN", 5)
    call = branch.modem.call(CUSTOMER, rings=1)
    branch.wait_for("caller gave up", lambda: call.ended_by == "caller")
    branch.wait_for("callback request", lambda: branch.gateway_has("journaled", kinds="call"))


def test_delivery_report_settles_the_reply(make_branch):
    branch = make_branch()
    conv = open_conversation(branch)
    status, _ = branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    assert status == 200
    branch.wait_for("delivered", lambda: delivery(branch, conv) == ["delivered"])
    assert pdu.decode_submit(branch.modem.sent[0].pdu).status_report_requested


def test_report_announced_in_the_wrong_memory_is_still_found(make_branch):
    branch = make_branch(modem_options={"cdsi_wrong_memory": True})
    conv = open_conversation(branch)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    branch.wait_for("delivered", lambda: delivery(branch, conv) == ["delivered"])
    branch.wait_for("report cleared", lambda: branch.modem.memories["SR"].used == 0)


def test_failed_delivery_report_marks_the_reply_failed(make_branch):
    branch = make_branch()
    branch.modem.set_report_outcome(CUSTOMER, "permanent")
    conv = open_conversation(branch)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    branch.wait_for("failed", lambda: delivery(branch, conv) == ["failed"])


def test_temporary_send_error_is_retried(make_branch):
    branch = make_branch()
    conv = open_conversation(branch)
    branch.modem.fail_sends(1, code=500)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Try again"})
    branch.wait_for("sent on the retry", lambda: branch.modem.sent, timeout=20)
    failed = branch.gateway_has("sms_failed")
    assert len(failed) == 1 and failed[0]["kind"] == "temporary"
    assert branch.modem.sent_texts() == [(CUSTOMER, "Try again")]


def test_permanent_send_error_fails_the_reply_without_retrying(make_branch):
    branch = make_branch()
    conv = open_conversation(branch)
    branch.modem.fail_sends(1, code=28)  # unidentified subscriber
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hello?"})
    branch.wait_for("failed", lambda: delivery(branch, conv) == ["failed"])
    time.sleep(1.5)  # longer than the retry backoff: still nothing sent
    assert branch.modem.sent == []
    assert conversation(branch, conv)["messages"][-1]["dir"] == "failed"


def test_long_message_arrives_as_one_text(make_branch):
    branch = make_branch()
    text = "Bonjour! " + "我的贷款申请怎么样了？" * 12 + " 😀"
    branch.modem.deliver(CUSTOMER, text)
    branch.panel.press(1, "AVAIL")
    (assigned,) = branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    conv = conversation(branch, int(assigned["conv"]))
    assert [m["text"] for m in conv["messages"]] == [text]
    assert conv["queue"] == "general"


def test_direct_delivery_and_the_storage_fallback_never_duplicate(make_branch):
    # The modem gives up waiting for AT+CNMA at once and stores the message as well,
    # so it reaches the gateway twice: by +CMT and by +CMTI.
    branch = make_branch(modem_config={"direct": True}, modem_options={"cnma_timeout": 0.0})
    for i in range(3):
        branch.modem.deliver(CUSTOMER, "direct %d" % i)
    branch.panel.press(1, "AVAIL")
    branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    branch.wait_for("storage emptied", lambda: not branch.modem.storage)
    conv = conversation(branch, 1)
    texts = sorted(m["text"] for m in conv["messages"])
    assert texts == ["direct 0", "direct 1", "direct 2"]


def test_modem_left_at_a_prompt_is_recovered(tmp_path):
    branch = SimulatedBranch(workdir=str(tmp_path))
    try:
        branch.broker.start()
        branch.modem.start()
        branch.modem.leave_at_prompt()
        branch.panel.start()
        branch._start_hq()
        branch.start_gateway()
        assert branch.modem.sent == []  # the half-typed SMS was cancelled, not sent
        conv = open_conversation(branch)
        assert conv == 1
    finally:
        branch.close()


def test_garbage_on_the_line_does_not_stop_the_gateway(make_branch):
    branch = make_branch()
    branch.modem.inject_garbage(b"\xff\xfe\x00\x1b[31m\r\n\x80\x81junk\r\n")
    branch.modem.noise("+QIND: SMS DONE")
    assert open_conversation(branch) == 1


def test_a_vanished_port_is_reopened_and_work_resumes(make_branch):
    branch = make_branch()
    branch.modem.vanish()
    branch.wait_for("lost", lambda: branch.gateway_has("serial_lost"))
    branch.modem.reappear()
    branch.wait_for("back", lambda: len(branch.gateway_has("modem_ready")) == 2, timeout=20)
    assert open_conversation(branch) == 1


def test_a_hung_modem_is_rebooted_then_reopened(make_branch):
    branch = make_branch(modem_config={"health_interval_s": 1})
    branch.modem.hang()
    branch.wait_for("rebooted", lambda: branch.gateway_has("modem_unresponsive", action="reboot"),
                    timeout=60)
    branch.modem.unhang()
    branch.wait_for("ready again", lambda: len(branch.gateway_has("modem_ready")) >= 2,
                    timeout=40)
    assert any(c.upper() == "AT+CFUN=1,1" for c in branch.modem.commands)
    assert open_conversation(branch) == 1


def test_replies_leave_from_the_modem_the_customer_wrote_to_else_another(make_branch):
    branch = make_branch(modem_ids=("m0", "m1"))
    m1 = branch.modems["m1"]
    conv = open_conversation(branch, sim=m1)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "From m1"})
    branch.wait_for("sent by m1", lambda: m1.sent)
    assert branch.modem.sent == []
    m1.vanish()
    branch.wait_for("m1 lost", lambda: branch.gateway_has("serial_lost", port="modem:m1"))
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "From m0"})
    branch.wait_for("sent by m0", lambda: branch.modem.sent)
    assert branch.modem.sent_texts() == [(CUSTOMER, "From m0")]
    m1.reappear()


def test_agent_text_cannot_inject_modem_commands(make_branch):
    branch = make_branch()
    conv = open_conversation(branch)
    evil = "ok\x1a\r\nAT+CFUN=0\r\n\x1bAT+CMGD=1,4\r"
    status, _ = branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": evil})
    assert status == 200
    branch.wait_for("sent", lambda: branch.modem.sent)
    assert branch.modem.sent_texts() == [(CUSTOMER, evil)]
    assert not [c for c in branch.modem.commands if "CFUN=0" in c or "CMGD=1,4" in c]


def test_an_overlong_reply_is_refused_with_a_reason(make_branch):
    branch = make_branch()
    conv = open_conversation(branch)
    status, body = branch.console("POST", "/api/conversations/%d/reply" % conv,
                                  {"text": "x" * 2000})
    assert status == 409 and "too long" in body["error"]
    assert branch.modem.sent == []


def test_modem_health_reaches_head_office_in_the_retained_status(make_branch):
    branch = make_branch(modem_config={"health_interval_s": 1})

    def health():
        with_modems = [s for s in branch.mqtt("status") if "modems" in s]
        return with_modems[-1]["modems"]["m0"] if with_modems else None

    first = branch.wait_for("health published", health)
    assert first == {"rssi_dbm": -71, "registered": True, "roaming": False,
                     "sim_ready": True, "technology": "GSM"}
    branch.modem.set_signal(5)
    branch.modem.set_sim_present(False)
    branch.wait_for("SIM missing shown", lambda: (health() or {}).get("sim_ready") is False)
    assert health()["rssi_dbm"] == -103


def crash_before_the_delete(branch, text):
    """`text` arrives and is journaled, its delete fails, and the gateway is killed: the
    message is still on the modem for the next gateway to read again."""
    branch.modem.fail_deletes(1)
    branch.modem.deliver(CUSTOMER, text)
    branch.wait_for("journaled, still on the modem",
                    lambda: branch.gateway_has("modem_problem") and branch.modem.storage)
    branch.kill_gateway()


def test_a_message_read_again_after_a_crash_before_its_delete_counts_once(make_branch):
    branch = make_branch()
    crash_before_the_delete(branch, "only once please")
    branch.start_gateway()  # the start-up sweep reads it again
    branch.wait_for("deleted now", lambda: not branch.modem.storage)
    branch.panel.press(1, "AVAIL")
    (assigned,) = branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    conv = conversation(branch, int(assigned["conv"]))
    assert [m["text"] for m in conv["messages"]] == ["only once please"]
    reads = [e for e in branch.journal_events() if e["k"] == "sms_in"]
    assert len(reads) == 2 and reads[0]["fp"] == reads[1]["fp"]


@pytest.mark.parametrize("trailer", ['"', ' ,0'])
def test_a_pdu_line_ending_in_junk_is_read_and_counts_once(make_branch, trailer):
    branch = make_branch()
    crash_before_the_delete(branch, "junk or not, the same message")
    branch.modem.pdu_trailer = trailer  # the next gateway reads it again, junk after it
    branch.start_gateway()
    branch.wait_for("deleted now", lambda: not branch.modem.storage)
    (junk,) = branch.gateway_has("pdu_junk")
    assert (junk["level"], junk["modem"], junk["slot"], junk["junk"]) == ("warn", "m0", "1", trailer)
    reads = [e for e in branch.journal_events() if e["k"] == "sms_in"]
    assert len(reads) == 2 and reads[0]["fp"] == reads[1]["fp"]
    assert not [e for e in branch.journal_events() if e["k"] == "sms_bad"]
    shown = branch.wait_for("shown", lambda: messages_shown(branch))
    assert [m["text"] for m in shown] == ["junk or not, the same message"]


def test_a_message_the_modem_cut_short_reaches_the_agent_marked(make_branch):
    branch = make_branch(modem_options={"truncate_udl": 3})
    text = "My card was swallowed by the ATM"  # 32 septets: 28 octets, 25 stored
    branch.modem.deliver(CUSTOMER, text)
    (message,) = branch.wait_for("shown", lambda: messages_shown(branch))
    assert message == {"dir": "in", "t": message["t"], "text": text[: 25 * 8 // 7],
                       "truncated": True}
    (event,) = [e for e in branch.journal_events() if e["k"] == "sms_in"]
    assert event["truncated"] is True
    assert branch.gateway_has("sms_truncated", modem="m0", slot=1)
    branch.wait_for("deleted", lambda: not branch.modem.storage)


def test_a_modem_that_lost_its_sim_is_passed_over(make_branch):
    branch = make_branch(modem_ids=("m0", "m1"), modem_config={"health_interval_s": 1})
    m1 = branch.modems["m1"]
    conv = open_conversation(branch, sim=m1)
    m1.set_sim_present(False)
    branch.wait_for("m1 reported without SIM",
                    lambda: branch.gateway_has("modem_health", modem="m1", sim_ready="False"))
    before = len(m1.commands)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "via m0"})
    branch.wait_for("sent by m0", lambda: branch.modem.sent)
    assert branch.modem.sent_texts() == [(CUSTOMER, "via m0")]
    # Not even tried on m1 (the customer's own modem, but known to be without a SIM).
    assert not [c for c in m1.commands[before:] if c.upper().startswith("AT+CMGS")]


def test_a_modem_lost_mid_send_does_not_strand_the_reply(make_branch):
    branch = make_branch(modem_ids=("m0", "m1"))
    m1 = branch.modems["m1"]
    conv = open_conversation(branch, sim=m1)
    m1.hang()  # takes the AT+CMGS and never answers, then vanishes
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "still arrives"})
    time.sleep(0.5)  # the send is on its way to m1
    m1.vanish()
    branch.wait_for("sent by m0", lambda: branch.modem.sent, timeout=20)
    assert branch.modem.sent_texts() == [(CUSTOMER, "still arrives")]
    m1.reappear()


def test_direct_status_reports_are_acknowledged(make_branch):
    branch = make_branch(modem_config={"direct": True})
    conv = open_conversation(branch)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    branch.wait_for("delivered", lambda: delivery(branch, conv) == ["delivered"])
    time.sleep(0.5)
    acks = [c for c in branch.modem.commands if c.upper() == "AT+CNMA"]
    assert len(acks) == 2  # the customer's message and the report
    assert branch.modem.memories["SR"].used == 0  # no fallback to storing the report


def sms_in_texts(branch):
    return [e["text"] for e in branch.journal_events() if e["k"] == "sms_in"]


@pytest.mark.parametrize("baud", [115200, 9600])
def test_start_up_under_a_storm_of_deliveries_is_prompt_and_counts_each_once(make_branch, baud):
    # The modem keeps the AT+CNMI of the gateway's previous run: every delivery made
    # while the new one starts comes with a +CMTI, one every 50 ms. At 9600 baud a line
    # takes ~20 ms, so the gateway reads most of them in pieces.
    # Room for all of them: a full memory would end the storm (no more +CMTI).
    branch = make_branch(modem_options={"capacity": 500, "baud": baud})
    branch.kill_gateway()
    branch.modem.storm(every_ms=50, count=400)  # 20 s: longer than start-up may take
    branch.start_gateway()
    assert branch.modem.storming  # ready while the storm still blows
    branch.modem.stop_storm()
    delivered = list(branch.modem.storm_texts)
    branch.wait_for(
        "every message journaled and deleted from the modem",
        lambda: len(sms_in_texts(branch)) >= len(delivered)
        and not branch.modem.storage and not branch.modem.waiting,
        timeout=60,
    )
    assert sorted(sms_in_texts(branch)) == sorted(delivered)


def test_reports_kept_with_the_messages_settle_the_reply_and_drafts_stay(make_branch):
    branch = make_branch(modem_options={"reports_in": "SM"},
                         modem_config={"health_interval_s": 1}, gateway=False)
    ((draft, _),) = pdu.encode_submit(CUSTOMER, "a draft somebody left on the SIM")
    assert branch.modem.memories["SM"].store(STO_UNSENT, draft) == 1
    branch.start_gateway()
    conv = open_conversation(branch)
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    branch.wait_for("delivered", lambda: delivery(branch, conv) == ["delivered"])
    branch.wait_for("report deleted from SM", lambda: list(branch.modem.storage) == [1])
    sweeps = branch.modem.commands.count("AT+CMGL=4")
    branch.wait_for("two more sweeps", lambda: branch.modem.commands.count("AT+CMGL=4") >= sweeps + 2)
    assert branch.modem.storage[1][1] == draft and ("SM", 1) not in branch.modem.deleted
    assert len(branch.gateway_has("sms_ignored", slot=1)) == 1  # told once, not every sweep
    kinds = [e["k"] for e in branch.journal_events()]
    assert "sms_status" in kinds and "sms_bad" not in kinds


def stored_then_started(make_branch, texts, **options):
    """A branch whose modem holds `texts` when the gateway starts."""
    branch = make_branch(modem_options=options, gateway=False)
    for text in texts:
        branch.modem.deliver(CUSTOMER, text)
    branch.start_gateway()
    branch.wait_for("every stored message journaled and deleted",
                    lambda: len(sms_in_texts(branch)) >= len(texts) and not branch.modem.storage)
    assert sorted(sms_in_texts(branch)) == sorted(texts)
    return branch


def warnings(branch):
    return [e for e in branch.gateway_events if e["level"] == "warn"]


def test_a_modem_without_sr_memory_lists_its_messages_once_at_start_up(make_branch):
    texts = ["stored %d" % i for i in range(6)]
    branch = stored_then_started(make_branch, texts, sr_memory=False, reports_in="SM")
    branch.wait_for("the start-up sweep ended", lambda: "ME" in branch.modem.listed)
    commands = [c.upper() for c in branch.modem.commands]
    assert branch.modem.listed == ["SM", "ME"] and 'AT+CPMS="SR"' not in commands
    (note,) = branch.gateway_has("modem_no_report_memory", modem="m0", memory="SR")
    assert "not among" in note["reason"] and warnings(branch) == []
    # Its reports, kept with the messages, still settle replies.
    branch.panel.press(1, "AVAIL")
    branch.wait_for("desk 1 has it", lambda: conversation(branch, 1)["desk"] == 1)
    status, _ = branch.console("POST", "/api/conversations/1/reply", {"text": "Hi!"})
    assert status == 200
    branch.wait_for("delivered", lambda: delivery(branch, 1) == ["delivered"])


def test_an_sr_selection_that_does_nothing_is_noticed_once_at_start_up(make_branch):
    texts = ["stored %d" % i for i in range(6)]
    branch = stored_then_started(make_branch, texts, sr_select_ignored=True)
    branch.wait_for("concluded", lambda: branch.gateway_has("modem_no_report_memory", modem="m0", memory="SR"))
    branch.wait_for("the start-up sweep ended", lambda: "ME" in branch.modem.listed)
    commands = [c.upper() for c in branch.modem.commands]
    assert branch.modem.listed == ["SM", "ME"]  # not "SM" a second time as if it were "SR"
    assert commands.count('AT+CPMS="SR"') == 1
    assert len(branch.gateway_has("modem_no_report_memory")) == 1 and warnings(branch) == []


def test_reports_kept_in_the_phone_memory_settle_the_reply_and_only_they_are_deleted(make_branch):
    # A modem that keeps status reports in "ME" while messages go to "SM". Before the
    # gateway starts, ME holds a message somebody left there and a report that came
    # while the gateway was down; SM holds two customer messages.
    branch = make_branch(modem_options={"reports_in": "ME"}, gateway=False)
    me = branch.modem.memories["ME"]
    left = pdu.encode_deliver(CUSTOMER, "a message left in the phone memory", (2026, 1, 2, 3, 4, 5, 0))[0]
    old_report = pdu.encode_status_report(200, CUSTOMER, (2026, 1, 2, 3, 4, 5, 0),
                                          (2026, 1, 2, 3, 4, 6, 0), 0)
    assert (me.store(REC_READ, left), me.store(REC_READ, old_report)) == (1, 2)
    for text in ("stored 1", "stored 2"):
        branch.modem.deliver(CUSTOMER, text)
    branch.start_gateway()
    # The start-up sweep finds the old report in ME: journaled, then deleted from ME.
    branch.wait_for("old report deleted from ME", lambda: ("ME", 2) in branch.modem.deleted)
    branch.wait_for("stored messages deleted", lambda: not branch.modem.storage)
    assert sorted(sms_in_texts(branch)) == ["stored 1", "stored 2"]
    assert branch.modem.listed == ["SM", "SR", "ME"]  # "SM" once, then each report memory
    conv = open_conversation(branch)
    status, _ = branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Hi!"})
    assert status == 200
    branch.wait_for("delivered", lambda: delivery(branch, conv) == ["delivered"])
    branch.wait_for("report deleted from ME", lambda: branch.modem.deleted.count(("ME", 2)) == 2)
    assert list(me.slots) == [1] and me.slots[1][1] == left  # the message in ME stays
    assert [d for d in branch.modem.deleted if d[0] == "ME"] == [("ME", 2), ("ME", 2)]
    assert len([e for e in branch.journal_events() if e["k"] == "sms_status"]) == 2
    assert len(branch.gateway_has("sms_ignored", memory="ME", slot=1)) == 1  # told once
    assert warnings(branch) == [] and not branch.gateway_has("modem_no_report_memory")
