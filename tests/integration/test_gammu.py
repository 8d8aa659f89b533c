"""A third-party modem client, gammu, against the simulator: if gammu takes it for a
modem, identifies it and reads its messages, the simulator speaks the dialect well enough
that the product's driver is not merely tested against its own assumptions."""

import shutil
import subprocess

import pytest

from host_tools.modem_sim import ModemSim

pytestmark = pytest.mark.skipif(shutil.which("gammu") is None,
                                reason="gammu is not installed (Debian package 'gammu')")


@pytest.fixture
def gammu(tmp_path):
    """-> (sim, run(*args) -> stdout): gammu configured for the simulator's port at 115200."""
    sim = ModemSim(str(tmp_path / "modem")).start()
    config = tmp_path / "gammurc"
    config.write_text("[gammu]\ndevice = %s\nconnection = at115200\nlogfile = %s\nlogformat = textall\n"
                      % (sim.link, tmp_path / "gammu.log"))

    def run(*args):
        done = subprocess.run(["gammu", "-c", str(config)] + list(args),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, "gammu %s: %s%s\nlog: %s" % (
            " ".join(args), done.stdout, done.stderr, (tmp_path / "gammu.log").read_text()[-3000:])
        return done.stdout

    yield sim, run
    sim.stop()
    assert sim.errors == []


def field(output, name):
    for line in output.splitlines():
        if line.startswith(name):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no %r in %s" % (name, output))


def test_gammu_identifies_the_modem(gammu):
    _, run = gammu
    out = run("identify")
    assert field(out, "Manufacturer") == "SIMCOM_Ltd"
    assert "SIMCOM_SIM800L" in field(out, "Model")
    assert field(out, "Firmware") == "Revision:1418B05SIM800L24"
    assert field(out, "IMEI") == "866000000000017"
    assert field(out, "SIM IMSI") == "460001234567890"


def test_gammu_reads_stored_messages(gammu):
    sim, run = gammu
    sim.deliver("+447700900123", "Is my card ready?")
    sim.deliver("+8613800138000", "你好，我想查询余额 😀")
    out = run("getallsms")
    assert "2 SMS parts in 2 SMS sequences" in out
    assert '"+447700900123"' in out and "Is my card ready?" in out
    assert '"+8613800138000"' in out and "你好，我想查询余额 😀" in out
    assert sorted(sim.storage) == [1, 2]  # reading is not deleting
