"""`make demo`: a simulated branch office, end to end, told as a timeline.

Two customers write (one in Chinese, one in English); the gateway reads the messages
from a simulated modem, journals them, deletes them from the modem and queues them;
desk 1 presses its AVAIL button; the router assigns both; the agent answers each by SMS
and wraps up; the session records and a metrics snapshot reach head office over MQTT.
"""

import random
import socket
import sys
import time

from host_tools.sim_branch import USERS, SimulatedBranch, StepFailed, per_mille, seconds

CUSTOMERS = (
    ("+8613800138000", "你好，我想查询我的账户余额。"),
    ("+447700900123", "Hello, can I book an appointment for a loan?"),
)
REPLIES = {
    "+8613800138000": "您好！您的账户余额可在柜台或网银查询。还有什么可以帮您？",
    "+447700900123": "Hi! Yes: we have a slot tomorrow at 10:00. Reply YES to book it.",
}


def run_story(branch):
    """The scripted branch day. Returns the conversation ids, in customer order."""
    say = branch.note
    say("story", "two customers write to the branch")
    for number, text in CUSTOMERS:
        branch.modem.deliver(number, text)
    branch.wait_for("both SMS journaled and deleted from the modem",
                    lambda: len(branch.gateway_has("sms_deleted")) == 2
                    and not branch.modem.storage)
    say("story", "desk 1 presses AVAIL on the panel")
    branch.panel.press(1, "AVAIL")
    branch.wait_for("both conversations offered to desk 1",
                    lambda: len(branch.gateway_has("offered", desk=1)) == 2)
    status, state = branch.console("GET", "/api/state")
    convs = state["desks"][0]["conversations"]
    by_customer = {}
    for conv in convs:
        _, detail = branch.console("GET", "/api/conversations/%d" % conv, user="amira")
        by_customer[detail["customer"]] = conv
    for number, _ in CUSTOMERS:
        conv = by_customer[number]
        say("story", "agent at desk 1 answers conversation %d" % conv)
        status, body = branch.console("POST", "/api/conversations/%d/reply" % conv,
                                      {"text": REPLIES[number]}, user="amira")
        if status != 200:
            raise StepFailed("reply refused: %s %s" % (status, body))
    branch.wait_for("both replies sent by the modem", lambda: len(branch.modem.sent) == 2)
    for number, _ in CUSTOMERS:
        conv = by_customer[number]
        say("story", "agent wraps up conversation %d" % conv)
        status, body = branch.console("POST", "/api/conversations/%d/close" % conv,
                                      {"outcome": "resolved"}, user="amira")
        if status != 200:
            raise StepFailed("close refused: %s %s" % (status, body))
    branch.wait_for("two session records at head office", lambda: len(branch.mqtt("session")) == 2)
    branch.wait_for("a metrics snapshot counting both closed conversations",
                    lambda: [m for m in branch.mqtt("metrics")
                             if m["metrics"]["day"]["all"]["handled"] == 2])
    return [by_customer[number] for number, _ in CUSTOMERS]


# What customers write now and then in the live demo (number, text).
WALK_INS = (
    ("+447700900456", "Hi, what time do you close today?"),
    ("+447700900789", "I'd like to check my account balance please"),
    ("+8613900139000", "你好，我的银行卡丢了，怎么办？"),
    ("+8613700137000", "请问明天可以办理贷款吗？"),
    ("+447700900321", "Can someone call me back about my mortgage?"),
    ("+447700900654", "<b>Is this working?</b> & are you open on Saturday?"),
)
LIVE_PORT = 8080  # the console's port in the live demo, when free


def _print(line):
    print(line, flush=True)


def _port_free(host, port):
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def print_logins(branch):
    print()
    print("The agents' console: %s/   (the wallboard for a TV: %s/wall)"
          % (branch.console_url, branch.console_url))
    for user, (role, desk, password) in sorted(USERS.items()):
        print("  log in as %-5s password %-15s %s%s" % (
            user, password, role, " at desk %d" % desk if desk else ""))


def live(branch, every_s):
    """Keep the branch running, a customer writing about every `every_s` seconds,
    until Ctrl-C."""
    print_logins(branch)
    print("The branch keeps running: customers write now and then. Ctrl-C stops it.",
          flush=True)
    rng = random.Random()
    while True:
        time.sleep(rng.uniform(every_s / 2, every_s * 3 / 2))
        number, text = rng.choice(WALK_INS)
        branch.modem.deliver(number, text)


def main(keep=False, live_mode=False, host="127.0.0.1", every_s=40):
    port = LIVE_PORT if live_mode and _port_free(host, LIVE_PORT) else None
    branch = SimulatedBranch(echo=_print, console_host=host, console_port=port)
    branch.own_dir = not keep
    try:
        branch.start()
        run_story(branch)
        if live_mode:
            live(branch, every_s)
        rc = branch.stop_gateway()
        branch.note("story", "gateway stopped (exit %s)" % rc)
        metrics = [m["metrics"]["day"]["all"] for m in branch.mqtt("metrics")
                   if m["metrics"]["day"]["all"]["handled"] == 2][-1]
        print()
        print("Done: %d SMS in, %d SMS out, %d session records at head office."
              % (len(branch.gateway_has("sms_received")), len(branch.modem.sent),
                 len(branch.mqtt("session"))))
        print("Today: service level %s within %ds, ASA %s, first response %s, handle %s."
              % (per_mille(metrics["service_level_pm"]), metrics["service_level_s"],
                 seconds(metrics["asa_ms"]), seconds(metrics["first_response_ms"]),
                 seconds(metrics["handle_ms"])))
        if keep:
            print("Work folder kept: %s" % branch.workdir)
        print_logins(branch)
        print("(this run has ended: `make demo-live` keeps the branch running to try it)")
        return 0 if rc == 0 else 1
    except StepFailed as e:
        print("demo failed: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
        return 0
    finally:
        branch.close()


if __name__ == "__main__":
    sys.exit(main())
