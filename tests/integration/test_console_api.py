"""The agents' console API as a browser or a script meets it: every refusal is JSON
with a reason and the right status, bad bodies are 400 (never a 500), and an offer is
not an answer until the desk takes it up."""

import http.client
import json
import socket
import subprocess
import time

import pytest

from host_tools.sim_branch import SimulatedBranch

CUSTOMER = "+447700900123"


@pytest.fixture
def branch(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path), config_overrides={"max_reply_parts": 3})
    b.start()
    yield b
    b.close()


def raw(branch, method, path, body=b"", headers=None):
    """-> (status, content type, decoded JSON body) for exactly these bytes, sent in
    the supervisor's session."""
    cookie, csrf = branch._sessions.get("sam") or branch.login("sam")
    sent = {"Cookie": cookie, "X-CSRF-Token": csrf}
    sent.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", branch.console_port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheader("Content-Type", ""), json.loads(data)
    finally:
        conn.close()


def offered(branch, text="Hello"):
    branch.modem.deliver(CUSTOMER, text)
    branch.panel.press(1, "AVAIL")
    (offer,) = branch.wait_for("offered", lambda: branch.gateway_has("offered"))
    return int(offer["conv"])


def test_every_error_is_json_with_its_status(branch):
    cases = (
        ("GET", "/nowhere", b"", 404),
        ("DELETE", "/api/state", b"", 405),
        ("POST", "/api/desks/1/presence", b'{"state": "' + b"x" * 3000 + b'"}', 413),
        ("POST", "/api/desks/1/presence", b"{not json", 400),
        ("POST", "/api/desks/1/presence", b"[1, 2]", 400),
        ("POST", "/api/desks/1/presence", b'{"state": []}', 400),
        ("POST", "/api/desks/1/presence", b'{"state": "asleep"}', 400),
        ("POST", "/api/desks/1/presence", b'{"state": "break", "reason": 99999}', 409),
        ("POST", "/api/desks/1/presence", b'{"state": "break", "colour": 1}', 400),
        ("POST", "/api/desks/9/presence", b'{"state": "available"}', 404),
        ("POST", "/api/conversations/abc/reply", b'{"text": "x"}', 400),
        ("POST", "/api/conversations/1_0/reply", b'{"text": "x"}', 400),
        ("GET", "/api/conversations/%D9%A1", b"", 400),  # an Arabic-Indic one
    )
    for method, path, body, expected in cases:
        status, ctype, doc = raw(branch, method, path, body)
        assert (status, ctype.split(";")[0]) == (expected, "application/json"), (path, doc)
        assert isinstance(doc["error"], str) and doc["error"], doc
    assert not branch.gateway_has("console_failed")
    conn = http.client.HTTPConnection("127.0.0.1", branch.console_port, timeout=10)
    conn.request("DELETE", "/api/state", headers={"Cookie": branch._sessions["sam"][0],
                                                  "X-CSRF-Token": branch._sessions["sam"][1]})
    assert "GET" in conn.getresponse().getheader("Allow", "")
    conn.close()


def test_a_deeply_nested_body_is_400_not_a_crash(branch):
    body = b"[" * 1400 + b"]" * 1400  # under the size limit
    status, _, doc = raw(branch, "POST", "/api/desks/1/presence", body)
    assert status == 400 and doc["error"] == "body is nested too deeply"
    status, _, doc = raw(branch, "POST", "/api/conversations/1/reply", b'{"a":' * 450 + b"1"
                         + b"}" * 450)
    assert status in (400, 404)  # conversation 1 does not exist: either answer is fine
    assert not branch.gateway_has("console_failed")
    assert branch.console("GET", "/api/state")[0] == 200  # still serving


def test_an_unknown_conversation_is_404_for_get_and_post(branch):
    for method, path, body in (("GET", "/api/conversations/7", b""),
                               ("POST", "/api/conversations/7/reply", b'{"text": "x"}'),
                               ("POST", "/api/conversations/7/accept", b""),
                               ("POST", "/api/conversations/7/close", b"{}"),
                               ("POST", "/api/conversations/7/transfer", b'{"desk": 2}')):
        status, _, doc = raw(branch, method, path, body)
        assert (status, doc["error"]) == (404, "no open conversation 7"), (method, path)


def test_a_reply_too_long_names_the_configured_limit(branch):
    conv = offered(branch)
    status, doc = branch.console("POST", "/api/conversations/%d/reply" % conv,
                                 {"text": "x" * 500})  # 4 parts
    assert status == 409 and doc["error"] == "reply too long: 4 SMS parts, at most 3", doc
    # What no allowed reply needs is refused before it is read.
    status, doc = branch.console("POST", "/api/conversations/%d/reply" % conv,
                                 {"text": "x" * 4000})
    assert (status, doc["error"]) == (413, "body too large (at most 2944 bytes)")
    status, doc = branch.console("POST", "/api/conversations/%d/reply" % conv, {})
    assert (status, doc["error"]) == (400, "text is missing")


def test_an_offer_is_not_answered_until_accepted(branch):
    conv = offered(branch)
    status, doc = branch.console("GET", "/api/conversations/%d" % conv)
    assert doc["state"] == "offered" and doc["accepted"] is None
    assert doc["offer_deadline"] == doc["offered"] + branch.config.get("offer_timeout_s", 120) * 1000
    state = branch.console("GET", "/api/state")[1]
    assert state["metrics"]["answered"] == 0
    status, _, doc = raw(branch, "POST", "/api/conversations/%d/accept" % conv)
    assert status == 200, doc
    branch.wait_for("accepted", lambda: branch.gateway_has("accepted", conv=conv, desk=1))
    status, doc = branch.console("GET", "/api/conversations/%d" % conv)
    assert doc["state"] == "active" and doc["accepted"] >= doc["offered"]
    assert doc["offer_deadline"] is None
    assert branch.console("GET", "/api/state")[1]["metrics"]["answered"] == 1
    status, _, doc = raw(branch, "POST", "/api/conversations/%d/accept" % conv)
    assert status == 409 and doc["error"] == "conversation %d is active" % conv


def test_offers_timing_out_unanswered_are_not_counted_as_answered(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path), config_overrides={
        "offer_timeout_s": 1, "max_missed_offers": 1})
    b.start()
    try:
        b.modem.deliver(CUSTOMER, "first")
        b.modem.deliver("+8613800138000", "second")
        b.wait_for("both queued", lambda: len(b.gateway_has("sms_deleted")) == 2)
        b.panel.press(1, "AVAIL")  # desk 1 (cap 2) is offered both and takes neither up
        (brk,) = b.wait_for("desk on break", lambda: b.gateway_has("desk_break_missed_offers"))
        assert (brk["level"], brk["desk"], brk["misses"]) == ("warn", "1", "1")
        assert b.panel.wait_led(1, "RED_BLINK", 5)
        seen = len(b.mqtt("metrics"))
        b.wait_for("metrics after the timeouts", lambda: len(b.mqtt("metrics")) > seen)
        metrics = b.console("GET", "/api/state")[1]["metrics"]
        assert (metrics["offered"], metrics["answered"]) == (2, 0)
        assert metrics["service_level_pm"] is None  # nothing answered, nothing abandoned
        assert b.mqtt("metrics")[-1]["metrics"]["day"]["all"]["answered"] == 0
    finally:
        b.close()


def _stream(branch, last_event_id=None, seconds=1.5):
    """-> the (id, data) of the events one event stream gives within `seconds`."""
    cookie, _ = branch._sessions.get("sam") or branch.login("sam")
    sock = socket.create_connection(("127.0.0.1", branch.console_port), timeout=seconds)
    head = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n" % cookie
    if last_event_id:
        head += "Last-Event-ID: %s\r\n" % last_event_id
    sock.sendall((head + "\r\n").encode())
    data = b""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    finally:
        sock.close()
    events = []
    for block in data.split(b"\r\n\r\n", 1)[-1].split(b"\n\n"):
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line)
        if b"data" in fields:
            events.append((fields.get(b"id", b"").decode(), json.loads(fields[b"data"])))
    return events


def test_a_page_that_lost_its_stream_gets_what_it_missed(branch):
    (first,) = _stream(branch, seconds=0.5)
    assert first[1] == {"hello": True}
    missed_from = first[0]
    branch.modem.deliver(CUSTOMER, "while the page was away")
    branch.panel.press(1, "AVAIL")
    branch.wait_for("offered", lambda: branch.gateway_has("offered"))
    resumed = _stream(branch, missed_from)
    notices = [doc for _id, doc in resumed[1:]]
    assert {"offer": 1, "desk": 1, "deadline": notices[[("offer" in n) for n in notices]
                                                       .index(True)]["deadline"]} in notices
    assert any(n.get("convs") and 1 in n["convs"] for n in notices), notices
    ids = [int(i.split("-")[1]) for i, _ in resumed[1:]]
    assert ids == sorted(ids) and ids[0] == int(missed_from.split("-")[1]) + 1
    # A page from before a restart (another boot) is told to load everything again.
    (hello, reset) = _stream(branch, "999-1", seconds=0.5)[:2]
    assert reset[1] == {"reset": True}


def test_the_console_over_https_with_a_secure_cookie(tmp_path):
    cert, key = str(tmp_path / "console.crt"), str(tmp_path / "console.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    b = SimulatedBranch(workdir=str(tmp_path / "branch"))
    b.config["console"]["tls"] = {"cert": cert, "key": key}
    b.start()
    try:
        (listening,) = b.gateway_has("console_listening")
        assert listening["url"].startswith("https://")
        status, headers, doc = b._request("POST", "/api/login",
                                          {"user": "sam", "password": "sam-supervisor"}, {})
        assert status == 200 and "; Secure" in headers["Set-Cookie"]
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert b.console("GET", "/api/state")[0] == 200
        plain = http.client.HTTPConnection("127.0.0.1", b.console_port, timeout=5)
        plain.request("GET", "/api/state")
        with pytest.raises((OSError, http.client.HTTPException)):  # no plain HTTP there
            plain.getresponse()
        assert b.console("GET", "/api/state")[0] == 200  # and TLS still served
    finally:
        b.close()
