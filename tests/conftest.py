"""Shared test setup: the portable tests' helper on sys.path, a private broker, the
simulators, and the --hil options that point the same tests at real hardware."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "portable"))


def pytest_addoption(parser):
    group = parser.getgroup("hil", "hardware in the loop")
    group.addoption("--hil-modem", metavar="PORT", help="serial port of a real GSM modem")
    group.addoption("--hil-panel", metavar="PORT", help="serial port of a real button panel")
    group.addoption("--hil-baud", type=int, default=115200, help="baud rate of the HIL ports")


def pytest_collection_modifyitems(config, items):
    have = config.getoption("--hil-modem") or config.getoption("--hil-panel")
    if have:
        return
    skip = pytest.mark.skip(reason="needs hardware: pass --hil-modem / --hil-panel PORT")
    for item in items:
        if "hil" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def broker():
    from host_tools.broker import Broker

    b = Broker().start()
    yield b
    b.close()


def _real_or_simulated(request, option, make_sim):
    """(path, None) for the real port named by `option`, else (path, started simulator)."""
    real = request.config.getoption(option)
    if real:
        return real, None
    sim = make_sim().start()
    request.addfinalizer(sim.stop)
    return sim.link, sim


@pytest.fixture
def modem_port(request, tmp_path):
    """A modem serial port: the real one with --hil-modem, else the simulator's."""
    from host_tools.modem_sim import ModemSim

    return _real_or_simulated(request, "--hil-modem", lambda: ModemSim(str(tmp_path / "modem0")))


@pytest.fixture
def panel_port(request, tmp_path):
    """A panel serial port: the real one with --hil-panel, else the simulator's."""
    from host_tools.panel_sim import PanelSim

    return _real_or_simulated(
        request, "--hil-panel", lambda: PanelSim(str(tmp_path / "panel"), desks=4)
    )
