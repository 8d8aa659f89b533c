"""A private mosquitto broker on a free loopback port, for the demo, tests and rigs
(never the machine's own broker: tests stop and restart theirs)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from host_tools.children import die_with_parent


class BrokerUnavailable(RuntimeError):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_mosquitto():
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise BrokerUnavailable(
            "mosquitto is not installed: install the Debian package 'mosquitto' "
            "(make bootstrap does it when run as root)"
        )
    return found


class Broker:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.dir = tempfile.mkdtemp(prefix="bl-broker-")
        self.proc = None

    def start(self, timeout=10.0):
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(
                "listener %d %s\nallow_anonymous true\n"
                # Persistent sessions survive a restart, as head office's subscriptions
                # do on a production broker; tests restart the broker to cut links.
                "persistence true\npersistence_location %s/\n"
                "log_dest stderr\nlog_type error\nlog_type warning\n"
                # As root, mosquitto would switch to its own user, who cannot write here.
                "%s" % (self.port, self.host, self.dir, "user root\n" if os.geteuid() == 0 else "")
            )
        self.proc = subprocess.Popen(
            [find_mosquitto(), "-c", conf],
            preexec_fn=die_with_parent(),
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "broker.log"), "wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerUnavailable("mosquitto exited: see %s/broker.log" % self.dir)
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerUnavailable("mosquitto did not listen on port %d" % self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
