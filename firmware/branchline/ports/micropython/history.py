"""The customer history on MicroPython: its btree index on the flash
(appliance/history.py feeds it; a rebuild runs in the loop, there being no thread)."""

import os

from branchline.appliance.history import History
from branchline.ports.micropython import files
from branchline.ports.micropython.history_btree import BtreeHistory

FILENAME = "history.btree"


class Btree:
    """What appliance/history.py asks of an index kind."""

    open = BtreeHistory
    errors = (OSError, ValueError)
    rename = staticmethod(files.rename)

    @staticmethod
    def remove(path):
        try:
            os.remove(path)
        except OSError:
            pass


def history(cfg, state_path, log):
    return History(cfg, files.join(state_path, FILENAME), log, Btree)
