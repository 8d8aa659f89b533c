"""The customer history on CPython: its SQLite index in the state folder
(appliance/history.py feeds it, rebuilds it in a thread)."""

import os
import sqlite3

from branchline.appliance.history import History
from branchline.ports.cpython.history_sqlite import SqliteHistory

FILENAME = "history.sqlite3"


class Sqlite:
    """What appliance/history.py asks of an index kind."""

    open = SqliteHistory
    errors = (sqlite3.Error,)
    rename = staticmethod(os.replace)

    @staticmethod
    def remove(path):
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(path + suffix)
            except FileNotFoundError:
                pass


def history(cfg, state_path, log):
    return History(cfg, os.path.join(state_path, FILENAME), log, Sqlite)
