"""The example configurations that ship with the repository are valid for their boards
and, between them, show every setting, so that they can serve as the reference a
technician copies from: examples/branch.json (a Raspberry Pi 4, CPython) and
examples/esp32-wrover.json (the ESP32 edition)."""

import json
import os

import boards
from branchline import hardware
from branchline.core import config

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "branch.json")
ESP32_EXAMPLE = os.path.join(os.path.dirname(EXAMPLE), "esp32-wrover.json")


def load(path=EXAMPLE):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_the_examples_are_valid_for_their_boards():
    for path in (EXAMPLE, ESP32_EXAMPLE):
        cfg = config.validate(load(path))
        assert config.warnings(cfg) == []
        assert hardware.serial_ports(cfg, boards.load(cfg["board"]))


def test_the_examples_name_every_known_key():
    doc = load()
    sections = (
        ([doc, load(ESP32_EXAMPLE)], config.TOP_KEYS),
        (doc["queues"], config.QUEUE_KEYS),
        (doc["desks"], config.DESK_KEYS),
        (doc["modems"], config.MODEM_KEYS),
        ([doc["panel"]], config.PORT_KEYS),
        ([doc["mqtt"]], config.MQTT_KEYS),
        ([load(ESP32_EXAMPLE)["wifi"]], config.WIFI_KEYS),
        ([load(ESP32_EXAMPLE)["ntp"]], config.NTP_KEYS),
        ([doc["console"]], config.CONSOLE_KEYS),
        (doc["console"]["users"], config.USER_KEYS),
        ([doc["console"]["tls"]], config.TLS_KEYS),
    )
    for objects, known in sections:
        shown = set()
        for obj in objects:
            shown.update(obj)
        assert sorted(set(known) - shown) == [], known


def test_the_readme_points_to_it():
    with open(os.path.join(os.path.dirname(EXAMPLE), "..", "README.md"), encoding="utf-8") as f:
        assert "examples/branch.json" in f.read()
