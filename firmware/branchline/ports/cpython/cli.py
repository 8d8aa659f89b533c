"""`branchline run --config FILE`: the appliance on CPython."""

import argparse
import asyncio
import json
import sys

import boards
from branchline import __version__, hardware
from branchline.core.branch import SnapshotMismatch
from branchline.core.config import ConfigError, validate, warnings
from branchline.ports.cpython.app import Gateway
from branchline.log import Log
from branchline.ports.cpython.startup import StartupError, StateDir, bind_console


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise ConfigError("%s: %s" % (path, e.strerror))
    except RecursionError:  # the json module gives up on deep nesting this way
        raise ConfigError("%s: not valid JSON: nested too deeply" % path)
    except ValueError as e:
        raise ConfigError("%s: not valid JSON: %s" % (path, e))
    return on_board(validate(doc))


def on_board(cfg):
    """A configuration that names its board has the board's UART names for ports: they
    become the device paths (and baud rates) the board file gives them, and an RS-485
    line is marked so that its link turns the kernel's RS-485 mode on."""
    if "board" not in cfg:
        return cfg
    try:
        board = boards.load(cfg["board"])
    except OSError:
        raise ConfigError("board: no board %r (known: %s)" % (cfg["board"],
                                                             ", ".join(boards.names())))
    hardware.check_storage(cfg, board)
    for _, section, uart in hardware.serial_ports(cfg, board):
        section["port"] = uart["device"]
        if "baud" not in section and "baud" in uart:
            section["baud"] = uart["baud"]
        if "de" in uart:
            section["rs485"] = True  # the kernel drives the driver enable (RTS)
    return cfg


def start(cfg, log):
    """Claim the state folder and the console's address, then build the gateway and
    bring its state back: every way this can fail is a StartupError, and no serial port
    or broker is touched yet."""
    state_dir = StateDir(cfg["state_dir"])
    console_socket = bind_console(cfg.get("console", {}))
    try:
        gateway = Gateway(cfg, log, state_dir, console_socket)
        gateway.replay()
        return gateway
    except StartupError:  # the console's certificate, say
        console_socket.close()
        raise
    except OSError as e:  # the journal or the boot counter cannot be opened or written
        console_socket.close()
        raise StartupError("state_dir: %s: %s" % (e.filename or cfg["state_dir"], e.strerror))
    except SnapshotMismatch as e:
        console_socket.close()
        raise StartupError("state_dir: %s: %s (start with the configuration it was made "
                           "with, or move the folder aside)" % (cfg["state_dir"], e))


def build_parser():
    parser = argparse.ArgumentParser(prog="branchline", description=__doc__)
    parser.add_argument("--version", action="version", version="branchline " + __version__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the appliance")
    run.add_argument("--config", required=True, help="device configuration (JSON)")
    run.add_argument("--debug", action="store_true", help="log unmasked numbers and modem noise")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print("branchline: config error: %s" % e, file=sys.stderr)
        return 2
    log = Log(debug=args.debug)
    try:
        gateway = start(cfg, log)
    except StartupError as e:
        print("branchline: cannot start: %s" % e, file=sys.stderr)
        return 2
    for line in warnings(cfg):
        log.warn("config_warning", reason=line)
    asyncio.run(gateway.run())
    if gateway.failure is not None:
        print("branchline: stopped: %s" % gateway.failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
