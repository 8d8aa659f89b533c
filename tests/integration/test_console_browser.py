"""The agents' console and the wallboard in a real browser (Debian's chromium, driven by
Playwright) against the whole simulated branch: SMS from the simulated modem, the
physical panel, the real gateway. Screenshots of each view land in build/screenshots/."""

import json
import os
import shutil
import time

import pytest

from branchline.proto import pdu
from host_tools.sim_branch import USERS, SimulatedBranch

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, "build", "screenshots")
AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
CUSTOMER = "+447700900123"
SERVICE = {
    "queues": [{"name": "general", "wrapup_required": ["disposition"]},
               {"name": "accounts", "keywords": ["account", "余额"]}],
    "dispositions": [{"code": "info"}, {"code": "complaint"}],
    "templates": [{"name": "greeting", "text": "Hello, this is {desk_name}."},
                  {"name": "named", "text": "Dear {customer_name}"}],
    "max_reply_parts": 2,
}
HOSTILE = "<img src=x onerror=alert(1)> </script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def browser():
    path = shutil.which("chromium")
    assert path, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def branch(tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path), config_overrides=SERVICE)
    b.start()
    yield b
    b.close()


class Page:
    """A logged-in page, failing the test on any dialog (an injected script's alert)."""

    def __init__(self, browser, branch, user, path="/"):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.dialogs = []
        self.errors = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(branch.console_url + path)
        if user is not None:
            login(self.page, user)

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        self.page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)

    def close(self):
        assert self.dialogs == [] and self.errors == [], (self.dialogs, self.errors)
        self.context.close()


def login(page, user, password=None):
    page.fill("#login-user", user)
    page.fill("#login-password", password or USERS[user][2])
    page.click("form.login button[type=submit]")


@pytest.fixture
def pages(browser, branch):
    opened = []

    def open_page(user, path="/"):
        p = Page(browser, branch, user, path)
        opened.append(p)
        return p

    yield open_page
    for p in opened:
        p.close()


def offered_in_page(branch, page, text, number=CUSTOMER):
    page.page.wait_for_selector("#btn-available")
    page.page.click("#btn-available")
    branch.panel.wait_led(1, "GREEN", 5)
    branch.modem.deliver(number, text)
    page.page.locator(".thread .text", has_text=text).wait_for(timeout=10000)


def test_an_sms_appears_live_and_a_template_reply_reaches_the_customer_delivered(branch, pages):
    agent = pages("amira")
    offered_in_page(branch, agent, "Is the branch open on Saturday?")
    assert agent.page.locator(".convs .state-offered").count() == 1
    assert agent.page.locator(".deadline").first.inner_text().endswith("s to accept")
    agent.page.select_option("#templates", "greeting")
    assert agent.page.input_value("#reply") == "Hello, this is Desk 1."
    assert "GSM 7-bit" in agent.page.inner_text("#reply-count")
    agent.shot("agent-offered")
    agent.page.click("#btn-send")
    branch.wait_for("the reply sent", lambda: branch.modem.sent)
    assert branch.modem.sent[-1].text == "Hello, this is Desk 1."
    agent.page.locator(".delivery-delivered").wait_for(timeout=10000)
    assert agent.page.inner_text("#conv-state") == "active"
    agent.shot("agent-conversation")


def test_what_an_agent_types_survives_live_updates(branch, pages):
    agent = pages("amira")
    offered_in_page(branch, agent, "first question")
    agent.page.fill("#note", "asked about fees")
    agent.page.click("#reply")
    agent.page.keyboard.type("We open at nine")
    parts_before = agent.page.inner_text("#reply-count")
    # Another customer (the list changes) and the same one (the thread changes).
    branch.modem.deliver("+447700900777", "someone else")
    agent.page.locator(".convs .preview", has_text="someone else").wait_for(timeout=10000)
    branch.modem.deliver(CUSTOMER, "and on Saturday?")
    agent.page.locator(".thread .text", has_text="and on Saturday?").wait_for(timeout=10000)
    assert agent.page.input_value("#reply") == "We open at nine"
    assert agent.page.input_value("#note") == "asked about fees"
    assert agent.page.inner_text("#reply-count") == parts_before
    agent.page.keyboard.type(" and ten on Saturday.")  # the focus stayed where it was
    assert agent.page.input_value("#reply") == "We open at nine and ten on Saturday."
    agent.page.click("#btn-send")
    branch.wait_for("the reply sent", lambda: branch.modem.sent)
    assert branch.modem.sent[-1].text == "We open at nine and ten on Saturday."
    agent.page.locator(".thread .text", has_text="ten on Saturday.").wait_for(timeout=10000)
    assert agent.page.input_value("#reply") == ""


def test_the_reply_counter_is_the_codecs_and_refuses_what_is_too_long(branch, pages):
    agent = pages("amira")
    offered_in_page(branch, agent, "hello")
    texts = ["", "a" * 160, "a" * 161, "€" * 80, "€" * 81, "你好" * 35, "你好" * 36, "😀" * 35,
             "😀" * 34 + "a", "ç{}[]", "a" * 306, "a" * 307]
    rules = pdu.counting_rules()
    counted = agent.page.evaluate("([texts, rules]) => texts.map((t) => Sms.count(t, rules).parts)",
                                  [texts, rules])
    assert counted == [pdu.part_count(t) for t in texts]
    agent.page.fill("#reply", "x" * 400)  # 3 parts, the branch allows 2
    assert agent.page.is_disabled("#btn-send")
    assert "too long" in agent.page.inner_text("#reply-count")
    agent.page.fill("#reply", "您好" * 30)
    assert "UCS-2" in agent.page.inner_text("#reply-count")
    assert not agent.page.is_disabled("#btn-send")


def test_a_hostile_sms_shows_as_typed_and_runs_nothing(branch, pages):
    agent = pages("amira")
    offered_in_page(branch, agent, HOSTILE)
    text = agent.page.locator(".thread .text", has_text="onerror").inner_text()
    assert text == HOSTILE
    assert agent.page.locator(".thread img").count() == 0
    assert agent.page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    agent.shot("agent-hostile-sms")
    # Page.close asserts no dialog opened and no script error happened.


def test_the_panel_button_and_the_page_agree_both_ways(branch, pages):
    agent = pages("amira")
    agent.page.wait_for_selector("#presence-state[data-state=offline]")
    branch.panel.press(1, "AVAIL")
    agent.page.wait_for_selector("#presence-state[data-state=available]", timeout=2000)
    agent.page.click("#btn-break")
    assert branch.panel.wait_led(1, "AMBER", 1.0)
    agent.page.wait_for_selector("#presence-state[data-state=break]", timeout=2000)
    branch.panel.press(1, "BREAK")  # back from break on the panel
    agent.page.wait_for_selector("#presence-state[data-state=available]", timeout=2000)


def test_transfer_then_wrap_up_needs_its_required_field(branch, pages):
    amira = pages("amira")
    bo = pages("bo")
    offered_in_page(branch, amira, "first question")
    bo.page.click("#btn-available")
    branch.panel.wait_led(2, "GREEN", 5)
    amira.page.click("#btn-accept")
    amira.page.wait_for_selector("#conv-state:text('active')")
    amira.page.select_option("#transfer-target", "desk:2")
    amira.page.click("#btn-transfer")
    bo.page.locator(".thread .text", has_text="first question").wait_for(timeout=10000)
    amira.page.wait_for_selector(".empty:text('No conversations at your desk.')")
    bo.page.click("#btn-accept")
    bo.page.wait_for_selector("#btn-wrapup")
    bo.page.click("#btn-wrapup")
    bo.page.wait_for_selector("#disposition")
    bo.page.click("#btn-close")  # the disposition is required: the browser refuses
    assert bo.page.locator("#disposition:invalid").count() == 1
    bo.shot("agent-wrapup")
    bo.page.select_option("#disposition", "info")
    bo.page.click("#btn-close")
    branch.wait_for("the session at head office", lambda: branch.mqtt("session"))
    session = branch.mqtt("session")[-1]["session"]
    assert (session["desk"], session["disposition"], session["outcome"]) == (2, "info", "resolved")


def test_the_supervisor_assigns_from_the_queue_and_forces_past_a_cap(branch, pages):
    sup = pages("sam")
    branch.modem.deliver(CUSTOMER, "anyone there?")
    branch.modem.deliver("+8613800138000", "你好")
    branch.wait_for("both queued", lambda: len(branch.gateway_has("sms_deleted")) == 2)
    sup.page.click("nav button:text('Queue')")
    sup.page.wait_for_selector("tr[data-conv]")
    assert sup.page.locator("tr[data-conv]").count() == 2
    sup.shot("supervisor-queue")
    row = sup.page.locator("tr[data-conv]").first
    row.locator("select").select_option("2")  # desk 2 is offline: the router says no
    row.locator("button.assign").click()
    row.locator("button.force").wait_for()
    assert row.locator(".error").inner_text().strip() != ""
    row.locator("button.force").click()  # the supervisor insists
    sup.page.wait_for_function("() => document.querySelectorAll('tr[data-conv]').length === 1")
    status, state = branch.console("GET", "/api/state")
    assert state["desks"][1]["load"] == 1 and state["queues"][0]["waiting"] == 1
    audit = branch.console("GET", "/api/audit")[1]["audit"]
    assert [a["ok"] for a in audit if a["action"] == "assign"] == [False, True]
    agent = pages("amira")  # an agent cannot assign, whatever the page shows
    agent.page.wait_for_selector("#presence-state")
    conv = int(sup.page.locator("tr[data-conv]").first.get_attribute("data-conv"))
    status = agent.page.evaluate("""(id) => fetch('/api/me').then(r => r.json()).then(me =>
        fetch('/api/conversations/' + id + '/assign', {method: 'POST', headers: {
        'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf},
        body: JSON.stringify({desk: 1})}).then(r => r.status))""", conv)
    assert status == 403


def test_the_wallboard_shows_the_cores_figures_and_a_wall_mode(branch, pages):
    branch.modem.deliver(CUSTOMER, "waiting for you")
    branch.wait_for("queued", lambda: branch.gateway_has("sms_deleted"))
    sup = pages("sam")
    sup.page.click("nav button:text('Wallboard')")
    sup.page.wait_for_selector("tr[data-queue=general] td.waiting:text('1')")
    board = branch.console("GET", "/api/board")[1]
    general = [q for q in board["queues"] if q["name"] == "general"][0]
    cells = sup.page.locator("tr[data-queue=general] td").all_inner_texts()
    assert cells[0] == str(general["waiting"]) and cells[2] == str(general["day"]["offered"])
    state = branch.console("GET", "/api/state")[1]
    assert general["day"]["offered"] == state["metrics"]["offered"] == 1
    assert sup.page.locator("img.chart").evaluate("img => img.complete && img.naturalWidth > 0")
    sup.shot("supervisor-wallboard")
    wall = pages("tech", "/wall")
    wall.page.wait_for_selector("body.wall tr[data-queue=general]")
    assert wall.page.locator("nav button").count() == 0
    wall.shot("wallboard-wall-mode")


def test_another_desks_conversation_and_a_forged_request_are_refused(branch, pages):
    amira = pages("amira")
    offered_in_page(branch, amira, "private matter")
    conv = json.loads(amira.page.evaluate("fetch('/api/my').then(r => r.text())"))["conversations"][0]["id"]
    bo = pages("bo")
    bo.page.wait_for_selector("#presence-state")
    status = bo.page.evaluate("(id) => fetch('/api/conversations/' + id).then(r => r.status)", conv)
    assert status == 403
    # A change without the CSRF token is refused, even from the page's own origin.
    status = amira.page.evaluate("""(id) => fetch('/api/conversations/' + id + '/reply', {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({text: 'forged'})}).then(r => r.status)""", conv)
    assert status == 403
    assert not branch.modem.sent


def test_the_login_locks_after_repeated_failures(branch, pages):
    page = pages(None)
    for _ in range(5):
        login(page.page, "amira", "wrong-password")
        page.page.wait_for_selector(".login .error:text('wrong user or password')")
        page.page.evaluate("document.querySelector('.login .error').textContent = ''")
    login(page.page, "amira")  # the right password, too late
    page.page.wait_for_selector(".login .error:text('account locked')")
    page.shot("login-locked")


def test_keyboard_shortcuts_and_their_help(branch, pages):
    agent = pages("amira")
    offered_in_page(branch, agent, "shortcut test")
    agent.page.keyboard.press("?")
    agent.page.wait_for_selector("#help:not([hidden])")
    agent.page.keyboard.press("Escape")
    agent.page.wait_for_selector("#help[hidden]", state="attached")
    agent.page.keyboard.press("r")
    assert agent.page.evaluate("document.activeElement.id") == "reply"


def test_no_serious_accessibility_violations(branch, pages):
    with open(AXE) as f:
        axe = f.read()
    login_page = pages(None)
    agent = pages("amira")
    offered_in_page(branch, agent, "accessible?")
    sup = pages("sam")
    sup.page.click("nav button:text('Wallboard')")
    sup.page.wait_for_selector("tr[data-queue]")
    for p in (login_page, agent, sup):
        p.page.evaluate(axe)
        found = p.page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})
            .then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))""")
        assert found == [], found


def test_the_first_login_asks_for_an_own_password(browser, tmp_path):
    b = SimulatedBranch(workdir=str(tmp_path / "branch"), config_overrides=SERVICE)
    for user in b.config["console"]["users"]:
        if user["user"] == "bo":
            user["must_change"] = True
    b.start()
    try:
        page = Page(browser, b, "bo")
        page.page.wait_for_selector("#pw-old")
        status = page.page.evaluate("fetch('/api/my').then(r => r.status)")
        assert status == 403  # nothing else before the password is changed
        page.page.fill("#pw-old", USERS["bo"][2])
        page.page.fill("#pw-new", "bo-own-password")
        page.page.fill("#pw-again", "bo-own-passwrod")
        page.page.click("form.login button[type=submit]")
        page.page.wait_for_selector(".login .error:text('The two new passwords differ')")
        page.page.fill("#pw-again", "bo-own-password")
        page.page.click("form.login button[type=submit]")
        page.page.wait_for_selector("#presence-state")
        page.close()
        with pytest.raises(AssertionError):
            b.login("bo")  # the configured password no longer opens the account
        assert b.login("bo", "bo-own-password")
    finally:
        b.close()


def test_a_missed_call_is_called_back_and_scheduled_again(branch, pages):
    call = branch.modem.call(CUSTOMER)  # nobody is in: a callback request
    branch.wait_for("hung up", lambda: call.ended_by == "modem")
    agent = pages("amira")
    agent.page.click("#btn-available")
    agent.page.wait_for_selector("#btn-accept")
    assert "missed call" in agent.page.inner_text(".thread")
    agent.page.click("#btn-accept")
    agent.page.click(".callback button:text('Reached')")  # its queue needs a disposition
    agent.page.wait_for_selector("#flash:text('close it with the record instead')")
    agent.page.select_option("#retry-in", "3600")
    before = int(time.time() * 1000)
    agent.page.click(".callback button:text('Call again')")
    agent.page.wait_for_selector(".empty:text('No conversations at your desk.')")
    status, doc = branch.console("GET", "/api/conversations/1")
    assert doc["state"] == "scheduled" and doc["messages"][-1]["text"] == "callback: retry"
    (ev,) = [e for e in branch.journal_events() if e["k"] == "callback_outcome"]
    assert before + 3600000 <= ev["at"] <= int(time.time() * 1000) + 3600000
