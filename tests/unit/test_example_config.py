"""The example configuration that ships with the repository is valid and shows every
setting, so that it can serve as the reference a technician copies from."""

import json
import os

from branchline.core import config

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "branch.json")


def load():
    with open(EXAMPLE, encoding="utf-8") as f:
        return json.load(f)


def test_the_example_is_valid():
    cfg = config.validate(load())
    assert config.warnings(cfg) == []


def test_the_example_names_every_known_key():
    doc = load()
    sections = (
        ([doc], config.TOP_KEYS),
        (doc["queues"], config.QUEUE_KEYS),
        (doc["desks"], config.DESK_KEYS),
        (doc["modems"], config.MODEM_KEYS),
        ([doc["panel"]], config.PORT_KEYS),
        ([doc["mqtt"]], config.MQTT_KEYS),
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
