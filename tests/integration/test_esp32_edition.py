"""The ESP32 edition (branchline.ports.micropython) as a board runs it, frozen into the
32-bit MicroPython unix port (host_tools/sim_edition.py): the demo's story end to end,
and resets mid-traffic. What only a real ESP32 can prove is listed in docs/esp32.md."""

import random
import time

import pytest

from branchline.proto import pdu
from host_tools import demo
from host_tools.ntp_sim import SntpServer
from host_tools.sim_edition import Esp32Branch, edition_port


@pytest.fixture
def edition():
    binary, image = edition_port()
    if binary is None:
        pytest.skip("the unix port with the edition frozen in is not built (make test does)")
    return binary, image


@pytest.fixture
def branch(tmp_path, edition):
    b = Esp32Branch(*edition, workdir=str(tmp_path))
    b.start()
    yield b
    b.close()


def test_the_demo_story_on_the_esp32_edition(branch):
    convs = demo.run_story(branch)

    # Journaled on the flash, then deleted from the modem.
    stored = [e for e in branch.journal_events() if e["k"] == "sms_in"]
    assert [(e["from"], e["text"]) for e in stored] == list(demo.CUSTOMERS)
    assert branch.modem.storage == {}

    # Offered to desk 1 once AVAIL was pressed on the panel; the replies went out.
    assert [(a["conv"], a["desk"]) for a in branch.gateway_has("offered")] == [
        (str(c), "1") for c in convs]
    for sent, (number, _) in zip(branch.modem.sent, demo.CUSTOMERS):
        decoded = pdu.decode_submit(sent.pdu)
        assert decoded.number == number and decoded.text == demo.REPLIES[number]

    # Head office has each session, and the device's birth and status.
    sessions = sorted(branch.mqtt("session"), key=lambda p: p["seq"])
    assert [p["session"]["id"] for p in sessions] == convs
    for payload, (number, text) in zip(sessions, demo.CUSTOMERS):
        s = payload["session"]
        assert s["customer"] == number and s["state"] == "closed"
        assert [(m["dir"], m["text"]) for m in s["messages"]] == [
            ("in", text), ("out", demo.REPLIES[number])]
    assert branch.mqtt("birth") and branch.mqtt("birth")[-1]["boot"] == 1
    assert [p["state"] for p in branch.mqtt("status")][-1] == "online"

    # The watchdog was fed all along.
    assert branch.feeds() >= 2


def test_a_kill_mid_traffic_loses_nothing(tmp_path, edition):
    """Customers keep writing while the board is reset (SIGKILL: a power cut) three
    times at random moments; in the end every message is in its conversation exactly
    once, nothing is left on the modem, and the journal on the flash holds it all."""
    rng = random.Random(11)
    senders = ["+4477009%05d" % n for n in range(24)]
    messages = [(s, "message %d from %s" % (i, s[-3:])) for i, s in enumerate(senders)]
    branch = Esp32Branch(*edition, workdir=str(tmp_path))
    try:
        branch.start()
        delivered = 0
        for kill in range(3):
            for sender, text in messages[delivered:delivered + 8]:
                branch.modem.deliver(sender, text)
                time.sleep(rng.uniform(0.01, 0.15))
            delivered += 8
            time.sleep(rng.uniform(0.0, 0.6))
            branch.kill_gateway()
            branch.start_gateway(wait=kill < 2)
        branch.wait_for("the last start is up, every message taken off the modem",
                        lambda: branch.gateway_has("modem_ready") and not branch.modem.storage,
                        timeout=30)
        _, state = branch.console("GET", "/api/state")
        assert sum(q["waiting"] for q in state["queues"]) == len(senders)
        seen = {}
        for conv_id in range(1, len(senders) + 1):
            status, conv = branch.console("GET", "/api/conversations/%d" % conv_id)
            assert status == 200, conv
            seen[conv["customer"]] = [m["text"] for m in conv["messages"]]
        assert seen == {s: [t] for s, t in messages}
        branch.wait_for("head office hears of the fourth boot",
                        lambda: [b for b in branch.mqtt("birth") if b["boot"] == 4])
    finally:
        print("\n".join(branch.timeline[-300:]))  # shown when the test fails
        branch.close()
    journaled = {(e["from"], e["text"]) for e in branch.journal_events() if e["k"] == "sms_in"}
    assert journaled == set(messages)


def test_the_clock_follows_ntp_and_never_runs_the_journal_backwards(tmp_path, edition):
    """The board's NTP server says it is a day later than the board thinks: the clock
    steps forward and what head office gets is stamped with the new time. Then the
    board loses power (its RTC forgets the step): it starts from the journal's last
    time, not from the day before, and every journal record is in time order."""
    day_ms = 86400000
    server = SntpServer(offset_ms=day_ms).start()
    branch = Esp32Branch(*edition, workdir=str(tmp_path),
                         config_overrides={"ntp": {"host": "127.0.0.1", "port": server.port}})
    try:
        branch.start()
        step = branch.wait_for("the clock set by NTP", lambda: branch.gateway_has("clock_set"))
        assert abs(int(step[0]["step_ms"]) - day_ms) < 2000
        branch.wait_for("metrics stamped a day ahead", lambda: [
            m for m in branch.mqtt("metrics") if m["ts"] > time.time() * 1000 + day_ms - 60000])
        last = max(e["t"] for e in branch.journal_events() if isinstance(e.get("t"), int))
        server.offset_ms = 0  # the NTP server is unreachable after the power cut: no step
        server.close()
        branch.kill_gateway()
        branch.start_gateway()
        branch.modem.deliver("+447700900999", "are you open?")
        branch.wait_for("the SMS journaled", lambda: branch.gateway_has("sms_deleted"))
        # The clock itself carried on from the journal (head office's birth is stamped
        # with it, not with an event's time).
        birth = branch.wait_for("the second boot's birth", lambda: [
            b for b in branch.mqtt("birth") if b["boot"] == 2])
        assert birth[0]["ts"] >= last
        branch.kill_gateway()
    finally:
        branch.close()
    times = [e["t"] for e in branch.journal_events() if isinstance(e.get("t"), int)]
    assert times == sorted(times)
    assert [e for e in branch.journal_events() if e["k"] == "sms_in"][0]["t"] >= last


def test_a_lost_history_index_is_rebuilt_in_the_loop_under_the_watchdog(tmp_path, edition):
    """The btree index is gone after a reset: the edition rebuilds it from the journal
    a step at a time while it serves (the serial lines and the watchdog's ticker run
    between the steps), and the customer's history is back."""
    branch = Esp32Branch(*edition, workdir=str(tmp_path),
                         config_overrides={"snapshot_every_events": 5})
    try:
        branch.start()
        demo.run_story(branch)
        number = demo.CUSTOMERS[0][0]
        _, before = branch.console("GET", "/api/customers/%s" % number.replace("+", "%2B"))
        branch.kill_gateway()
        branch.remove_from_flash("state/history.btree")
        branch.start_gateway()
        branch.wait_for("the index rebuilt", lambda: branch.gateway_has("history_rebuilt"))
        status, after = branch.console(
            "GET", "/api/customers/%s" % number.replace("+", "%2B"))
        assert status == 200 and after == before
        fed = branch.feeds()
        time.sleep(2.5)
        assert branch.feeds() > fed  # still fed after the rebuild
    finally:
        print("\n".join(branch.timeline[-200:]))  # shown when the test fails
        branch.close()
