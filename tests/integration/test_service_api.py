"""The console API of the service layer through the whole gateway (simulated modem and
panel, a real mosquitto): the customer's profile and history, notes, templates, the
wrap-up record, erasure everywhere, and the history index rebuilt from the journal."""

import os
import urllib.parse

import pytest

from host_tools.sim_branch import SimulatedBranch

CUSTOMER = "+447700900123"
PATH = "/api/customers/" + urllib.parse.quote(CUSTOMER)
SERVICE = {
    "queues": [{"name": "general", "wrapup_required": ["disposition"]},
               {"name": "accounts", "keywords": ["account"]}],
    "dispositions": [{"code": "info"}, {"code": "complaint", "sub": [{"code": "fees"}]}],
    "templates": [{"name": "greeting", "text": "Hello {customer_name}, this is {desk_name}."},
                  {"name": "wait", "text": "About {wait_minutes} minutes."}],
}


@pytest.fixture
def branch(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path), config_overrides=SERVICE)
    b.start()
    yield b
    b.close()


def offered(branch, text):
    branch.modem.deliver(CUSTOMER, text)
    branch.panel.press(1, "AVAIL")
    (offer,) = branch.wait_for("offered", lambda: branch.gateway_has("offered"))
    return int(offer["conv"])


def test_profile_templates_notes_wrap_up_and_the_thread(branch):
    assert branch.console("GET", PATH)[0] == 404
    status, _ = branch.console("POST", PATH, {"name": "Ms Lee", "tags": ["cards"], "vip": True})
    assert status == 200
    assert branch.console("POST", PATH, {"vip": "yes"})[0] == 400
    conv = offered(branch, "my card was charged twice")
    status, doc = branch.console("GET", "/api/conversations/%d" % conv)
    assert doc["customer_profile"]["name"] == "Ms Lee" and doc["customer_profile"]["vip"]
    status, doc = branch.console("GET", "/api/conversations/%d/templates" % conv)
    by_name = {t["name"]: t for t in doc["templates"]}
    assert by_name["greeting"]["text"] == "Hello Ms Lee, this is Desk 1."
    assert by_name["wait"]["text"] is None and "{wait_minutes}" in by_name["wait"]["missing"]
    status, doc = branch.console("POST", "/api/conversations/%d/templates/wait" % conv, {})
    assert status == 409 and "{wait_minutes}" in doc["error"]
    assert branch.console("POST", "/api/conversations/%d/templates/nope" % conv, {})[0] == 409
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "Checking it now."})
    assert branch.console("POST", "/api/conversations/%d/note" % conv,
                          {"text": "refund ticket 4471"})[0] == 200
    assert branch.console("POST", "/api/conversations/%d/wrapup" % conv, {})[0] == 200
    status, doc = branch.console("POST", "/api/conversations/%d/close" % conv, {})
    assert status == 409 and doc["error"] == "queue general requires a disposition to close"
    status, doc = branch.console("POST", "/api/conversations/%d/close" % conv,
                                 {"disposition": "complaint/fees", "summary": "refunded"})
    assert status == 200, doc
    status, doc = branch.console("GET", "/api/wrapup")
    assert [d["code"] for d in doc["dispositions"]] == ["info", "complaint/fees"]
    assert doc["required"]["general"] == ["disposition"]
    branch.wait_for("in the history", lambda: branch.console("GET", PATH)[1].get("conversations"))
    status, doc = branch.console("GET", PATH)
    (closed,) = doc["conversations"]
    assert (closed["disposition"], closed["summary"]) == ("complaint/fees", "refunded")
    assert [(m["dir"], m["text"]) for m in closed["messages"]] == [
        ("in", "my card was charged twice"), ("out", "Checking it now."),
        ("internal", "refund ticket 4471")]
    sessions = branch.wait_for("session at head office", lambda: branch.mqtt("session"))
    assert sessions[0]["session"]["disposition"] == "complaint/fees"
    assert branch.console("POST", "/api/handover", {"desk": 1, "text": "Ms Lee: refund"})[0] == 200
    status, doc = branch.console("GET", "/api/handover?desk=1")
    assert [n[1] for n in doc["desk"]] == ["Ms Lee: refund"]


def test_erase_removes_the_number_and_its_texts_from_index_journal_and_state(branch):
    conv = offered(branch, "secret account question")
    branch.console("POST", "/api/conversations/%d/reply" % conv, {"text": "secret answer"})
    branch.wait_for("sent", lambda: branch.modem.sent)
    status, doc = branch.console("POST", PATH + "/erase", {})
    assert status == 409 and "close it first" in doc["error"]
    branch.console("POST", "/api/conversations/%d/close" % conv, {"disposition": "info"})
    branch.wait_for("acknowledged", lambda: not branch.console("GET", "/api/state")[1][
        "sms_outbox"])
    assert branch.console("POST", PATH + "/erase", {})[0] == 200
    branch.wait_for("rewritten", lambda: branch.gateway_has("customer_erased"))
    assert branch.console("GET", PATH)[0] == 404
    state = branch.config["state_dir"]
    for root, _dirs, files in os.walk(state):
        for name in files:
            if name.startswith("history"):
                continue  # SQLite's own files: checked through the API above
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            for secret in (CUSTOMER, "secret account question", "secret answer"):
                assert secret.encode() not in data, (name, secret)
    erased = [e for e in branch.journal_events() if e["k"] == "erase"]
    assert erased == [{"k": "erase", "t": erased[0]["t"], "customer": "erased-1"}]
    audits = branch.wait_for("audit at head office", lambda: branch.mqtt("audit"))
    assert audits[0]["audit"] == {"action": "erase", "customer": "erased-1"}


def test_a_lost_history_index_is_rebuilt_from_the_journal(branch):
    conv = offered(branch, "first question")
    branch.console("POST", "/api/conversations/%d/close" % conv, {"disposition": "info"})
    branch.wait_for("in the history", lambda: branch.console("GET", PATH)[0] == 200)
    branch.stop_gateway()
    state = branch.config["state_dir"]
    for name in os.listdir(state):
        if name.startswith("history.sqlite3"):
            os.remove(os.path.join(state, name))
    branch.start_gateway()  # serving at once; the index is rebuilt beside it
    branch.wait_for("rebuilt", lambda: branch.gateway_has("history_rebuilt"))
    assert branch.gateway_has("history_rebuilding")
    status, doc = branch.console("GET", PATH)
    assert status == 200 and [c["id"] for c in doc["conversations"]] == [conv]
    assert doc["conversations"][0]["messages"][0]["text"] == "first question"
