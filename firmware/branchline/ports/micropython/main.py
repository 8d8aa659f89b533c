"""Start the appliance on MicroPython: the configuration and the board from the flash,
the state brought back from the journal, then the gateway until it stops.

-> 0 when stopped, 1 when the gateway stopped itself (its journal failed: the board's
main.py resets it, as systemd restarts the CPython edition), 2 when it cannot start
(a bad configuration, a board it was not made for, state it does not fit): one line
says why, and the board stays at the REPL for a technician instead of boot-looping.
"""

import asyncio
import gc
import json

from branchline.core.branch import SnapshotMismatch
from branchline.core.config import ConfigError, validate, warnings
from branchline.log import Log
from branchline.ports.micropython import clock
from branchline.ports.micropython.app import Gateway

CONFIG = "/config.json"
BOARD = "/board.json"
GC_EVERY_BYTES = 16 * 1024  # a collection this often keeps the heap from fragmenting


def _load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise ConfigError("%s: cannot read %s (%s)" % (what, path, e))
    except ValueError as e:
        raise ConfigError("%s: %s is not valid JSON (%s)" % (what, path, e))


def main(config_path=CONFIG, board_path=BOARD, debug=False):
    gc.threshold(GC_EVERY_BYTES)
    log = Log(debug=debug, now_ms=clock.now_ms)
    try:
        board = _load(board_path, "board")
        cfg = validate(_load(config_path, "config"))
        gateway = Gateway(cfg, board, log)
        gateway.replay()
    except ConfigError as e:
        print("branchline: config error: %s" % e)
        return 2
    except SnapshotMismatch as e:
        print("branchline: cannot start: state_dir: %s (start with the configuration it "
              "was made with, or move the folder aside)" % e)
        return 2
    except OSError as e:
        print("branchline: cannot start: state_dir: %s" % e)
        return 2
    for line in warnings(cfg):
        log.warn("config_warning", reason=line)
    asyncio.run(gateway.run())
    if gateway.failure is not None:
        print("branchline: stopped: %s" % gateway.failure)
        return 1
    return 0
