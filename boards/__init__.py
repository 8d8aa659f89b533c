"""The board definitions (one folder per board, its `board.json`) and their validator
(boards/validate.py). Installed with the tools, so provisioning and the firmware build
find them without a checkout."""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def names():
    """Every board defined here, sorted."""
    return sorted(d for d in os.listdir(HERE)
                  if os.path.exists(os.path.join(HERE, d, "board.json")))


def path(name):
    return os.path.join(HERE, name, "board.json")


def load(name):
    """The board `name` as a dict; OSError if there is no such board."""
    with open(path(name), encoding="utf-8") as f:
        return json.load(f)
