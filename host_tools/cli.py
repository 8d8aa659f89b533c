"""`branchline-tools`: what technicians and test rigs run on a PC."""

import argparse
import signal
import sys
import threading

from host_tools import control


def _wait_for_signal():
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


def _print_log(prefix):
    def log(text):
        print("%s: %s" % (prefix, text), flush=True)

    return log


def _serve(sim, name, link, handle, control_path):
    """Run a started simulator until a signal, answering control requests meanwhile."""
    if control_path:
        control.serve(control_path, handle)
    print("%s: listening on %s" % (name, link), flush=True)
    _wait_for_signal()
    sim.stop()
    return 0


def _modem_ops(sim):
    """Control-socket ops of the modem simulator: name -> fn(request) -> answer."""

    def done(_):
        return {"ok": True}

    return {
        "sms": lambda r: {"slots": sim.deliver(str(r["from"]), str(r["text"]))},
        "sent": lambda r: {"sent": [{"to": n, "text": t} for n, t in sim.sent_texts()]},
        "storage": lambda r: {"slots": sorted(sim.memories[r.get("memory", "SM")].slots)},
        "call": lambda r: done(sim.call(str(r["from"]), r.get("rings"))),
        "calls": lambda r: {"calls": [{"from": c.number, "rings": c.rings, "ended_by": c.ended_by}
                                      for c in sim.calls]},
        "noise": lambda r: done(sim.noise(str(r["line"]))),
        "garbage": lambda r: done(sim.inject_garbage(bytes.fromhex(r["hex"]))),
        "drop_responses": lambda r: done(sim.drop_responses(int(r["n"]))),
        "fail_sends": lambda r: done(sim.fail_sends(int(r["n"]), int(r.get("code", 500)))),
        "storage_full": lambda r: done(sim.set_storage_full(bool(r.get("full", True)))),
        "report_outcome": lambda r: done(sim.set_report_outcome(str(r["to"]), r["outcome"])),
        "storm": lambda r: done(sim.storm(int(r.get("ms", 50)),
                                          None if r.get("count") is None else int(r["count"]))),
        "stop_storm": lambda r: done(sim.stop_storm()),
        "hang": lambda r: done(sim.hang()),
        "unhang": lambda r: done(sim.unhang()),
        "vanish": lambda r: done(sim.vanish()),
        "reappear": lambda r: done(sim.reappear()),
        "leave_at_prompt": lambda r: done(sim.leave_at_prompt()),
        "latency": lambda r: done(setattr(sim, "latency_ms", int(r["ms"]))),
        "signal": lambda r: done(sim.set_signal(int(r["rssi"]), int(r.get("ber", 0)))),
        "registration": lambda r: done(sim.set_registration(int(r["stat"]))),
        "sim": lambda r: done(sim.set_sim_present(bool(r["present"]))),
    }


def cmd_modem_sim(args):
    from host_tools.modem_sim import ModemSim

    sim = ModemSim(
        args.link,
        capacity=args.capacity,
        on_log=_print_log("modem-sim"),
        model=args.model,
        baud=args.baud or None,
        latency_ms=args.latency_ms,
        ring_period=args.ring_period,
        cnma_timeout=args.cnma_timeout,
        cnma_fallback=args.cnma_fallback,
        cdsi_wrong_memory=args.cdsi_wrong_memory,
        pdu_trailer=args.pdu_trailer,
        truncate_udl=args.truncate_udl,
        reports_in=args.reports_in,
        sr_memory=not args.no_sr_memory,
        sr_select_ignored=args.sr_select_ignored,
    ).start()
    ops = _modem_ops(sim)

    def handle(req):
        op = ops.get(req["op"])
        if op is None:
            raise ValueError("unknown op %r (%s)" % (req["op"], ", ".join(sorted(ops))))
        return op(req)

    return _serve(sim, "modem-sim", args.link, handle, args.control)


def cmd_panel_sim(args):
    from host_tools.panel_sim import PanelSim

    sim = PanelSim(args.link, desks=args.desks, on_log=_print_log("panel-sim")).start()

    def handle(req):
        op = req["op"]
        if op == "press":
            sim.press(int(req["desk"]), str(req["button"]))
            return {"ok": True}
        if op == "leds":
            return {"leds": {str(k): v for k, v in sim.leds.items()}}
        raise ValueError("unknown op %r (press, leds)" % op)

    return _serve(sim, "panel-sim", args.link, handle, args.control)


def cmd_demo(args):
    from host_tools import demo

    return demo.main(keep=args.keep, live_mode=args.live, host=args.host,
                     every_s=args.every)


def cmd_hash_password(args):
    """A console.users password hash: the password asked twice (never on the command
    line, where the shell's history would keep it)."""
    import getpass

    from branchline import passwords

    first = getpass.getpass("password: ")
    if len(first) < 8:
        print("a password needs 8 characters or more", file=sys.stderr)
        return 1
    if getpass.getpass("again: ") != first:
        print("the two differ", file=sys.stderr)
        return 1
    print(passwords.make(first, args.iterations))
    return 0


def cmd_bench(args):
    from host_tools.bench import run_all

    return run_all.main(args.only)


def cmd_firmware(args):
    from host_tools import firmware

    return firmware.run(args)


def build_parser():
    parser = argparse.ArgumentParser(prog="branchline-tools", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("modem-sim", help="simulate a GSM modem on a pseudo-terminal")
    p.add_argument("--link", required=True, help="path of the serial port to create")
    p.add_argument("--capacity", type=int, default=30, help="SIM storage slots")
    p.add_argument("--control", help="Unix socket for JSON control requests")
    p.add_argument("--model", choices=("SIM800", "EC25"), default="SIM800")
    p.add_argument("--baud", type=int, default=115200, help="line rate to pace at (0: unpaced)")
    p.add_argument("--latency-ms", type=int, default=0, help="delay before each answer")
    p.add_argument("--ring-period", type=float, default=1.0, help="seconds between RINGs")
    p.add_argument("--cnma-timeout", type=float, default=5.0,
                   help="seconds a +CMT waits for AT+CNMA under AT+CSMS=1")
    p.add_argument("--cnma-fallback", choices=("store", "drop"), default="store",
                   help="what happens to a +CMT nobody acknowledged")
    p.add_argument("--cdsi-wrong-memory", action="store_true",
                   help='announce status reports stored in "SR" as +CDSI: "SM",<i>')
    p.add_argument("--pdu-trailer", default="",
                   help="text after the PDU of +CMGR/+CMGL answers (a modem's stray '\"')")
    p.add_argument("--truncate-udl", type=int, default=0, metavar="N",
                   help="octets cut from each stored message's user data (TP-UDL kept)")
    p.add_argument("--reports-in", choices=("SR", "SM", "ME"), default="SR",
                   help="the memory status reports are kept in")
    p.add_argument("--no-sr-memory", action="store_true",
                   help='no "SR" memory: not in AT+CPMS=?, AT+CPMS="SR" fails')
    p.add_argument("--sr-select-ignored", action="store_true",
                   help='AT+CPMS="SR" answers OK but the read memory stays')
    p.set_defaults(func=cmd_modem_sim)

    p = sub.add_parser("panel-sim", help="simulate a desk button panel on a pseudo-terminal")
    p.add_argument("--link", required=True, help="path of the serial port to create")
    p.add_argument("--desks", type=int, default=4)
    p.add_argument("--control", help="Unix socket for JSON control requests")
    p.set_defaults(func=cmd_panel_sim)

    p = sub.add_parser("demo", help="run a simulated branch end to end")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--live", action="store_true",
                   help="keep the branch running after the story, customers writing now and "
                        "then, so the console can be tried by hand (Ctrl-C stops)")
    p.add_argument("--every", type=float, default=40, metavar="S",
                   help="live: a customer writes about every S seconds")
    p.add_argument("--host", default="127.0.0.1",
                   help="the console's address (0.0.0.0: reachable from the LAN)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("hash-password", help="make a console user's password hash")
    p.add_argument("--iterations", type=int, default=100000,
                   help="PBKDF2 iterations (fewer for an ESP32 edition, at least 1000)")
    p.set_defaults(func=cmd_hash_password)

    p = sub.add_parser("firmware", help="the MicroPython edition's image for a board")
    from host_tools import firmware
    firmware.add_arguments(p)
    p.set_defaults(func=cmd_firmware)

    p = sub.add_parser("bench", help="run the benchmarks (table + build/bench/*.json)")
    p.add_argument("only", nargs="*", help="names of benchmarks to run (default: all)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
