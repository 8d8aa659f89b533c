"""Starting the gateway: what is wrong with its surroundings is one clear line, found
before a serial port or the broker is touched; one gateway per state folder; the
console on the address the config names."""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from branchline.core import snapshot
from host_tools.sim_branch import SimulatedBranch


@pytest.fixture
def branch(tmp_path):
    """A simulated branch (broker, modem, panel, head office) with no gateway yet."""
    b = SimulatedBranch(workdir=str(tmp_path / "branch")).start(gateway=False)
    yield b
    b.close()


def run_once(branch, timeout=30):
    """`branchline run` that is expected to stop by itself: -> (exit code, stderr lines)."""
    done = subprocess.run(branch.gateway_command(), capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, done.stderr.splitlines()


def assert_refused_untouched(branch, expected):
    rc, lines = run_once(branch)
    assert rc == 2
    assert lines == ["branchline: cannot start: " + expected], lines
    # Nothing was opened: the modem heard no command, head office saw no connection.
    time.sleep(0.3)
    assert branch.modem.commands == []
    assert branch.mqtt_messages == []


def test_a_console_port_in_use_is_one_line_before_anything_opens(branch):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        branch.config["console"] = {"host": "127.0.0.1", "port": port}
        assert_refused_untouched(
            branch, "console.port: 127.0.0.1:%d is already in use (another gateway, or "
                    "another program)" % port)


def test_a_console_certificate_that_does_not_load_is_one_line(branch, tmp_path):
    cert, key = str(tmp_path / "missing.crt"), str(tmp_path / "missing.key")
    branch.config["console"]["tls"] = {"cert": cert, "key": key}
    assert_refused_untouched(branch, "console.tls: cannot load %s / %s (No such file or "
                                     "directory)" % (cert, key))


def test_a_console_address_not_on_this_machine_is_one_line(branch):
    branch.config["console"] = {"host": "192.0.2.1", "port": 8080}  # TEST-NET-1
    assert_refused_untouched(
        branch, "console.host: 192.0.2.1 is not an address of this machine (port 8080)")


def test_a_console_host_that_does_not_resolve_is_one_line(branch):
    branch.config["console"] = {"host": "no-such-host.invalid", "port": 8080}
    rc, lines = run_once(branch)
    assert rc == 2 and len(lines) == 1
    assert lines[0].startswith("branchline: cannot start: console.host: cannot resolve "
                               "'no-such-host.invalid'")


def test_a_missing_state_folder_is_not_made_up(branch, tmp_path):
    # A missing folder may be an SD card that did not mount: starting afresh there would
    # look like a branch that lost its journal.
    missing = str(tmp_path / "nowhere" / "state")
    branch.config["state_dir"] = missing
    assert_refused_untouched(
        branch, "state_dir: %s does not exist (create it, or fix the path)" % missing)
    assert not os.path.exists(missing)


def test_a_state_folder_that_is_a_file_or_unwritable_is_one_line(branch, tmp_path):
    path = str(tmp_path / "a-file")
    open(path, "w").close()
    branch.config["state_dir"] = path
    assert_refused_untouched(branch, "state_dir: %s is not a folder" % path)
    # sysfs refuses new files even to root, who can write anywhere else.
    branch.config["state_dir"] = "/sys/kernel"
    assert_refused_untouched(branch, "state_dir: /sys/kernel is not writable (Permission denied)")


def test_a_config_typo_is_one_line(branch):
    branch.config["offer_timout_s"] = 30
    done = subprocess.run(branch.gateway_command(), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "branchline: config error: offer_timout_s: unknown key (did you mean offer_timeout_s?)"]


def test_a_config_nested_too_deeply_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    done = subprocess.run(SimulatedBranch.gateway_command_for(str(path)), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "branchline: config error: %s: not valid JSON: nested too deeply" % path]


def test_a_second_gateway_on_the_same_state_folder_refuses_to_start(branch):
    branch.start_gateway()
    first = branch.gateway
    connects = len(branch.gateway_has("mqtt_connected"))
    # Another console port, so that the state folder is what stops it.
    other = dict(branch.config, console={"host": "127.0.0.1", "port": 0})
    path = os.path.join(branch.workdir, "second.json")
    with open(path, "w") as f:
        json.dump(other, f)
    done = subprocess.run(SimulatedBranch.gateway_command_for(path), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "branchline: cannot start: state_dir: %s is in use by another gateway (pid %d); "
        "stop it first" % (branch.config["state_dir"], first.pid)]
    # The first one carries on undisturbed: same MQTT session, and it still serves.
    time.sleep(0.5)
    assert first.poll() is None
    assert len(branch.gateway_has("mqtt_connected")) == connects
    assert not branch.gateway_has("mqtt_disconnected")
    branch.modem.deliver("+447700900123", "still there?")
    branch.wait_for("journaled by the first", lambda: branch.gateway_has("sms_deleted"))


def test_a_killed_gateway_leaves_no_stale_lock(branch):
    branch.start_gateway()
    branch.kill_gateway()  # SIGKILL: no clean-up runs
    branch.start_gateway()  # waits until its modem is ready
    assert branch.gateway.poll() is None


def test_no_modems_starts_only_when_said_and_warns(branch):
    branch.config["modems"] = []
    branch.start_gateway(wait=False)
    (warning,) = branch.wait_for("warned", lambda: branch.gateway_has("config_warning"))
    assert warning["reason"] == "modems: none configured: no SMS can be received or sent"
    branch.wait_for("serving", lambda: branch.gateway_has("console_listening"))


def test_the_console_listens_on_the_configured_address_only(branch):
    branch.config["console"] = {"host": "127.0.0.2", "port": branch.console_port}
    branch.start_gateway()
    (listening,) = branch.gateway_has("console_listening")
    assert listening["url"] == "http://127.0.0.2:%d" % branch.console_port
    page = urllib.request.Request("http://127.0.0.2:%d/" % branch.console_port,
                                  headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(page, timeout=10) as resp:
        assert resp.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:%d/" % branch.console_port, timeout=10)


def test_a_folder_over_its_ceiling_loses_the_oldest_archive_first(branch):
    """At the ceiling the archive's oldest segments go, even inside retention_days;
    the live journal and snapshot stay."""
    branch.start_gateway()
    assert branch.stop_gateway() == 0  # a snapshot at stop: start-up will not need more
    branch.config["disk_ceiling_mb"] = 1
    state = branch.config["state_dir"]
    live = {n: open(os.path.join(state, n), "rb").read() for n in os.listdir(state)
            if n.startswith((snapshot.SNAPSHOT_PREFIX, snapshot.SEGMENT_PREFIX))}
    archive = os.path.join(state, snapshot.ARCHIVE_DIR)
    os.makedirs(archive)
    now = int(time.time() * 1000)
    names = [snapshot.archived_name(0, now - (3 - n) * 3600000) for n in range(3)]
    for name in names:
        with open(os.path.join(archive, name), "wb") as f:
            f.write(b"\0" * 600 * 1024)  # what they hold is not read: the snapshot is
    branch.start_gateway()
    (trimmed,) = branch.wait_for("trimmed", lambda: branch.gateway_has("archive_trimmed"))
    assert (trimmed["removed"], trimmed["oldest"]) == ("2", names[0])
    assert sorted(os.listdir(archive)) == names[2:]
    assert not branch.gateway_has("disk_ceiling_reached")
    for name, data in live.items():
        with open(os.path.join(state, name), "rb") as f:
            assert f.read()[:len(data)] == data, name  # appended to, never cut
