"""The demo's scenario against the simulators, a real mosquitto and the real gateway
process, asserting every step; plus restarts, a broker outage and bad input."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from branchline.proto import pdu
from host_tools import demo
from host_tools.sim_branch import SimulatedBranch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def branch(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path))
    b.start()
    yield b
    b.close()


def test_demo_story_end_to_end(branch):
    # When the modem is asked to delete a slot, its message must already be in the journal.
    journaled_at_delete = []
    log = branch.modem.on_log
    memory = ["SM"]  # deletes in "SR" clear status reports, not customers' messages

    def watch(text):
        if text.startswith('AT command: AT+CPMS="'):
            memory[0] = text.split('"')[1]
        if text.startswith("AT command: AT+CMGD=") and memory[0] == "SM":
            slot = int(text.rsplit("=", 1)[1].split(",")[0])
            stored = [e for e in branch.journal_events() if e["k"] == "sms_in"]
            journaled_at_delete.append(any(e["slot"] == slot for e in stored))
        log(text)

    branch.modem.on_log = watch
    convs = demo.run_story(branch)
    assert journaled_at_delete == [True, True]

    # Stored durably, then deleted from the modem.
    stored = [e for e in branch.journal_events() if e["k"] == "sms_in"]
    assert [(e["from"], e["text"]) for e in stored] == list(demo.CUSTOMERS)
    assert branch.modem.storage == {}
    deleted = sorted(i for memory, i in branch.modem.deleted if memory == "SM")
    assert deleted == sorted(e["slot"] for e in stored)

    # Assigned to desk 1, the only available agent, in arrival order.
    assigned = branch.gateway_has("offered")
    assert [(a["conv"], a["desk"]) for a in assigned] == [(str(c), "1") for c in convs]

    # The reply PDUs decode to exactly the texts the agent sent.
    for sent, (number, _) in zip(branch.modem.sent, demo.CUSTOMERS):
        decoded = pdu.decode_submit(sent.pdu)
        assert decoded.number == number and decoded.text == demo.REPLIES[number]
    assert pdu.decode_submit(branch.modem.sent[0].pdu).encoding == "ucs2"
    assert pdu.decode_submit(branch.modem.sent[1].pdu).encoding == "gsm7"

    # Session records at head office carry the conversation.
    sessions = sorted(branch.mqtt("session"), key=lambda p: p["seq"])
    assert len(sessions) == 2
    for payload, conv, (number, text) in zip(sessions, convs, demo.CUSTOMERS):
        assert payload["id"] == "%s-%d" % (branch.config["device"], payload["seq"])
        assert payload["site"] == branch.config["site"]
        s = payload["session"]
        assert s["id"] == conv and s["customer"] == number and s["desk"] == 1
        assert s["state"] == "closed" and s["outcome"] == "resolved"
        assert s["created"] <= s["offered"] <= s["accepted"] <= s["first_reply"] <= s["closed"]
        assert [(m["dir"], m["text"]) for m in s["messages"]] == [
            ("in", text),
            ("out", demo.REPLIES[number]),
        ]
    assert sessions[0]["session"]["queue"] == "accounts"  # "余额" is an accounts keyword
    assert sessions[1]["session"]["queue"] == "general"

    # Status is retained online with a birth message; the panel LED shows desk 1 free.
    status = branch.mqtt("status")
    assert status and status[-1]["state"] == "online"
    assert branch.mqtt("birth")[0]["boot"] == 1
    assert branch.panel.wait_led(1, "GREEN", 5)

    assert branch.stop_gateway() == 0
    assert branch.mqtt("status")[-1]["state"] == "offline"


def test_state_survives_a_kill_and_owed_work_is_redone(branch):
    branch.modem.deliver("+447700900123", "Is my card ready?")
    branch.panel.press(1, "AVAIL")
    branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    branch.kill_gateway()  # SIGKILL: no clean shutdown

    branch.start_gateway()
    replayed = branch.gateway_has("journal_replayed")[-1]
    assert replayed["conversations"] == "1"
    status, state = branch.console("GET", "/api/state")
    assert state["desks"][0]["conversations"] == [1] and state["desks"][0]["presence"] == "available"
    status, _ = branch.console("POST", "/api/conversations/1/reply", {"text": "Yes, it is."})
    assert status == 200
    branch.wait_for("reply sent", lambda: branch.modem.sent)
    status, _ = branch.console("POST", "/api/conversations/1/close", {})
    assert status == 200
    branch.wait_for("session record", lambda: branch.mqtt("session"))
    assert branch.mqtt("session")[0]["session"]["customer"] == "+447700900123"
    assert branch.mqtt("birth")[-1]["boot"] == 2


def test_uplinks_wait_out_a_broker_outage(branch):
    branch.panel.press(1, "AVAIL")
    branch.modem.deliver("+447700900123", "hello")
    branch.wait_for("assigned", lambda: branch.gateway_has("offered"))
    branch.broker.stop()
    branch.wait_for("gateway noticed", lambda: branch.gateway_has("mqtt_disconnected"))
    status, _ = branch.console("POST", "/api/conversations/1/close", {})
    assert status == 200
    branch.wait_for("session queued", lambda: branch.gateway_has("uplink_queued", kind="session"))
    assert branch.mqtt("session") == []
    branch.broker.start()
    branch.wait_for("session delivered after the outage", lambda: branch.mqtt("session"), timeout=40)
    assert branch.mqtt("session")[0]["session"]["customer"] == "+447700900123"


def test_bad_panel_frames_are_logged_and_the_panel_keeps_working(branch):
    branch.panel.send_raw(b"$BTN,1,AVAIL,1*00\r\n\x00\xff\xfe garbage\r\n$NONSENSE*4E\r\n")
    branch.wait_for("bad frames logged", lambda: len(branch.gateway_has("panel_bad_frame")) >= 3)
    branch.panel.press(1, "AVAIL")
    assert branch.panel.wait_led(1, "GREEN", 5)


def test_led_frames_sent_to_the_panel_are_valid(branch):
    branch.panel.press(2, "AVAIL")
    assert branch.panel.wait_led(2, "GREEN", 5)
    assert branch.panel.bad_frames == 0


def test_console_transfers_escalates_and_assigns(branch):
    branch.panel.press(1, "AVAIL")
    branch.modem.deliver("+447700900123", "I want to complain about a loan")
    branch.modem.deliver("+8613800138000", "hello")
    branch.wait_for("both at desk 1", lambda: len(branch.gateway_has("offered", desk=1)) == 2)
    branch.panel.press(2, "AVAIL")
    status, body = branch.console("POST", "/api/conversations/1/transfer", {"desk": True})
    assert status == 400 and body["error"] == "desk must be an integer"
    status, body = branch.console("POST", "/api/conversations/1/transfer", {"queue": "nope"})
    assert status == 409 and "no queue" in body["error"]
    status, _ = branch.console("POST", "/api/conversations/2/transfer", {"desk": 2})
    assert status == 200
    branch.wait_for("moved to desk 2", lambda: branch.gateway_has("offered", conv=2, desk=2))
    assert branch.gateway_has("returned", conv=2, desk=1)
    status, body = branch.console("POST", "/api/conversations/1/assign", {"desk": 2})
    assert status == 409 and "assign" in body["error"]  # desk 2 is at its cap of 1
    status, _ = branch.console("POST", "/api/conversations/1/escalate", {"note": "fraud?"})
    assert status == 200
    branch.wait_for("escalation at head office", lambda: branch.mqtt("escalation"))
    escalation = branch.mqtt("escalation")[0]["escalation"]
    assert escalation["customer"] == "+447700900123" and escalation["state"] == "remote"
    status, state = branch.console("GET", "/api/state")
    assert state["desks"][0]["load"] == 0  # the slot is free again
    status, _ = branch.console("POST", "/api/desks/1/presence", {"state": "break", "reason": 4})
    assert status == 200
    assert branch.panel.wait_led(1, "AMBER", 5)


def test_the_live_demo_keeps_the_branch_running_until_ctrl_c(tmp_path):
    """`make demo-live`: the story, then the console's address and logins, customers
    writing now and then, and a clean stop on Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "host_tools.cli", "demo", "--live", "--every", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("The agents' console: "):
                url = line.split()[3].rstrip("/")
            if url and sum("sms_received" in x for x in lines) >= 4:
                break  # the story's two, and walk-ins after it
        assert url, "".join(lines)
        assert any("log in as amira" in x for x in lines)
        page = urllib.request.Request(url + "/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(page, timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[0]
        assert proc.returncode == 0, "".join(lines) + rest
        assert "Traceback" not in "".join(lines) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
