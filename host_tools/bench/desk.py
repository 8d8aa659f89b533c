"""The console's figures against the whole simulated branch (the real gateway, the
simulated modem paced at its baud rate, Debian's chromium):

- sms_to_browser_ms_p50/_p99: from the simulated modem raising +CMTI to the text on the
  agent's page, with 20 agent pages and a wallboard open; beside the SMS's own time on
  the serial line (`sms_line_ms`), the target being line time + 100 ms;
- console_requests_per_s: the conversation API (GET /api/conversations/<id>) with 20
  concurrent clients in another process, a new connection each (as microdot serves);
- console_bytes_per_page: the gateway's memory per open page (its event stream), from
  its resident size with 0 and 200 streams open;
- assets_bytes_compressed: the pages and assets as the package ships them.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from branchline.proto import pdu
from host_tools import assets
from host_tools.bench import report
from host_tools.sim_branch import SimulatedBranch, console_users

AGENTS = 20
SAMPLES = 150  # so that p99 is not the single worst wait
GAP_S = 0.4
# The supervisor hands each conversation to head office this many SMS later, as a
# branch's agents close theirs: the desks hold 60 at once (20 at a cap of 3).
KEPT = 5
STREAMS = 200
LOAD_S = 5
LOAD_CLIENTS = 20
BAUD = 115200
PASSWORD = "bench-agent-pass"

# Each page notes when a marked text first shows anywhere on it (page time, ms).
WATCH = """
window.__seen = {};
new MutationObserver(() => {
  for (const node of document.querySelectorAll('.thread .text, .convs .preview')) {
    const m = /bench-(\\d+)/.exec(node.textContent);
    if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = Date.now();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""

LOAD_CLIENT = r"""
import asyncio, sys, time
port, cookie, path, clients, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nConnection: close\r\n\r\n"
           % (path, cookie)).encode()
done = [0, 0]
async def worker(end):
    while time.monotonic() < end:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(request)
        data = await r.read()
        w.close()
        done[0 if data.startswith(b"HTTP/1.0 200") else 1] += 1
async def main():
    end = time.monotonic() + seconds
    await asyncio.gather(*[worker(end) for _ in range(clients)])
asyncio.run(main())
print(done[0], done[1])
"""


def _config(branch):
    desks = [{"desk": d, "cap": 3, "queues": ["general", "accounts"]}
             for d in range(1, AGENTS + 1)]
    users = {"agent%d" % d: ("agent", d, PASSWORD) for d in range(1, AGENTS + 1)}
    users["sup"] = ("supervisor", None, PASSWORD)
    branch.config["desks"] = desks
    branch.config["console"]["users"] = console_users(users)


def line_ms(sender, text):
    """The SMS's time on the serial line at BAUD: the +CMTI, the read and its answer
    (the PDU in hex), the delete and the OKs (10 bits a byte)."""
    hex_pdu = pdu.encode_deliver(sender, text, (2026, 12, 3, 12, 0, 0, 0))[0]
    octets = len(hex_pdu) if isinstance(hex_pdu, str) else len(hex_pdu) * 2
    total = len('\r\n+CMTI: "SM",1\r\n') + len("AT+CMGR=1\r") + len('\r\n+CMGR: 0,,40\r\n') \
        + octets + len("\r\n\r\nOK\r\n") + len("AT+CMGD=1\r") + len("\r\nOK\r\n")
    return total * 10 * 1000 // BAUD


def _pages(branch, browser):
    pages = []
    for d in range(1, AGENTS + 1):
        # 20 pages share this machine's two cores, where a branch gives each its own
        # PC: without their 20 blinking LEDs, what is measured is the path of a message.
        context = browser.new_context(reduced_motion="reduce")
        context.add_init_script(WATCH)
        page = context.new_page()
        page.goto(branch.console_url + "/")
        page.fill("#login-user", "agent%d" % d)
        page.fill("#login-password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector("#btn-available")
        page.click("#btn-available")
        page.wait_for_selector("#presence-state[data-state=available]")
        pages.append(page)
    board = browser.new_context().new_page()
    board.goto(branch.console_url + "/wall")
    board.fill("#login-user", "sup")
    board.fill("#login-password", PASSWORD)
    board.click("form.login button[type=submit]")
    board.wait_for_selector("tr[data-queue]")
    return pages


def sms_to_browser(branch, browser):
    pages = _pages(branch, browser)
    # One unmeasured first: the first offer of a run pays for first imports, first
    # connections and the page's script being compiled.
    branch.modem.deliver("+447700800000", "bench-warm-up")
    time.sleep(1)
    branch.login("sup", PASSWORD)
    numbers = ["+447700800000"]
    sent = {}
    for n in range(SAMPLES):
        text = "bench-%d is the branch open today?" % n
        numbers.append("+4477009%05d" % n)
        sent[str(n)] = time.time() * 1000
        branch.modem.deliver(numbers[-1], text)
        if len(numbers) > KEPT:
            _escalate(branch, numbers.pop(0))
        time.sleep(GAP_S)
    deadline = time.monotonic() + 30
    seen = {}
    while time.monotonic() < deadline and len(seen) < SAMPLES:
        seen = {}
        for page in pages:
            for key, t in page.evaluate("window.__seen").items():
                seen[key] = min(t, seen.get(key, t))
        time.sleep(0.2)
    if len(seen) < SAMPLES:
        raise report.BenchUnavailable("desk: only %d of %d SMS reached a page" % (len(seen), SAMPLES))
    waits = sorted(seen[k] - sent[k] for k in sent)
    if os.environ.get("BL_BENCH_VERBOSE"):
        print("waits (ms, by SMS):", [int(seen[k] - sent[k]) for k in sorted(sent, key=int)])
    return waits, line_ms("+447700900000", "bench-0 is the branch open today?")


def _escalate(branch, number):
    """Frees the desk that holds `number`'s conversation (the supervisor escalates it)."""
    _, doc = branch.console("GET", "/api/my", user="sup")
    for conv in doc["conversations"]:
        if conv["customer"] == number:
            status, answer = branch.console(
                "POST", "/api/conversations/%d/escalate" % conv["id"], {}, user="sup")
            if status != 200:
                raise report.BenchUnavailable("desk: escalating refused: %s" % (answer,))
            return
    raise report.BenchUnavailable("desk: %s's conversation reached no desk" % number)


def requests_per_s(branch):
    cookie, _ = branch.login("sup", PASSWORD)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_CLIENT, str(branch.console_port), cookie,
         "/api/conversations/1", str(LOAD_CLIENTS), str(LOAD_S)],
        capture_output=True, text=True, timeout=LOAD_S + 60)
    ok, failed = (int(x) for x in done.stdout.split())
    if failed or not ok:
        raise report.BenchUnavailable("desk: %d requests failed (%s)" % (failed, done.stderr[-300:]))
    return ok / LOAD_S


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bytes_per_page(branch):
    import socket

    cookie, _ = branch.login("sup", PASSWORD)
    pid = branch.gateway.pid
    before = _rss_kb(pid)
    streams = []
    for _ in range(STREAMS):
        s = socket.create_connection(("127.0.0.1", branch.console_port))
        s.sendall(("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n"
                   % cookie).encode())
        streams.append(s)
    for s in streams:
        s.settimeout(10)
        assert s.recv(4096).startswith(b"HTTP/1.0 200")
    time.sleep(1)
    after = _rss_kb(pid)
    for s in streams:
        s.close()
    return (after - before) * 1024 // STREAMS


def main():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise report.BenchUnavailable("desk: playwright is not installed (make bootstrap)")
    chromium = shutil.which("chromium")
    if chromium is None:
        raise report.BenchUnavailable("desk: Debian's chromium is missing (make bootstrap)")
    work = tempfile.mkdtemp(prefix="bl-desk-bench-")
    branch = SimulatedBranch(workdir=work)
    _config(branch)
    try:
        branch.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            waits, line = sms_to_browser(branch, browser)
            browser.close()
        rate = requests_per_s(branch)
        per_page = bytes_per_page(branch)
    finally:
        branch.close()
        shutil.rmtree(work, ignore_errors=True)
    shipped = sum(os.path.getsize(os.path.join(assets.SHIPPED, n))
                  for n in os.listdir(assets.SHIPPED))
    p50 = statistics.median(waits)
    p99 = waits[min(len(waits) - 1, len(waits) * 99 // 100)]
    figures = {
        "sms_to_browser_ms_p50": int(p50),
        "sms_to_browser_ms_p99": int(p99),
        "sms_line_ms": line,
        "sms_to_browser_target_ms": line + 100,
        "console_requests_per_s": int(rate),
        "console_bytes_per_page": per_page,
        "assets_bytes_compressed": shipped,
    }
    report.write("desk", figures, notes=[
        "%d SMS %.1f s apart after one warm-up, %d agent pages and a wallboard open, each "
        "conversation escalated %d SMS later; the modem paced at %d baud"
        % (SAMPLES, GAP_S, AGENTS, KEPT, BAUD),
        "requests: GET /api/conversations/1, %d clients, %d s, a connection each"
        % (LOAD_CLIENTS, LOAD_S),
        "per page: the gateway's VmRSS with %d event streams open, over %d" % (STREAMS, STREAMS),
    ])


if __name__ == "__main__":
    main()
