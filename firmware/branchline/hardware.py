"""The board a device runs on (boards/<name>/board.json, shipped with the firmware): which
UART, pins and baud rate a configuration's serial port means.

A configuration's `port` is the name of one of the board's UARTs ("modem1", "panel"), or
on a CPython board a device path (a USB modem, which no board file can know). Checked at
provisioning and again at boot, so a configuration made for another board stops the
device with one line instead of driving the wrong pins.
"""

from branchline.core.config_error import ConfigError


def uart(board, name, where):
    """The board's UART `name` (its dict), or ConfigError naming `where`."""
    uarts = board.get("uarts", {})
    if name in uarts:
        return uarts[name]
    if board.get("runtime") == "cpython" and name.startswith("/"):
        return {"device": name}
    raise ConfigError("%sport: %r is not a UART of board %s (it has %s)" % (
        where, name, board.get("board"), ", ".join(sorted(uarts)) or "none"))


def serial_ports(cfg, board):
    """-> [(where, config section, board UART)] for the modems and the panel, after
    checking that `cfg` was made for `board` and that no two of them share a UART."""
    if cfg.get("board") != board.get("board"):
        raise ConfigError("board: this device is a %s, the configuration names %s" % (
            board.get("board"), cfg.get("board")))
    out = []
    for i, modem in enumerate(cfg.get("modems", [])):
        out.append(("modems[%d]." % i, modem))
    if "panel" in cfg:
        out.append(("panel.", cfg["panel"]))
    seen = {}
    found = []
    for where, section in out:
        name = section["port"]
        if name in seen:
            raise ConfigError("%sport: %r is %sport already" % (where, name, seen[name]))
        seen[name] = where
        found.append((where, section, uart(board, name, where)))
    return found


def check_storage(cfg, board):
    """The state folder's ceiling must leave room on the board's storage."""
    storage = board.get("storage", {}).get("bytes")
    ceiling = cfg["disk_ceiling_mb"] * 1024 * 1024
    if storage is not None and ceiling > storage:
        raise ConfigError("disk_ceiling_mb: %d MB is more than board %s's storage (%d MB)" % (
            cfg["disk_ceiling_mb"], board.get("board"), storage // (1024 * 1024)))
