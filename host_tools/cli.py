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


def cmd_modem_sim(args):
    from host_tools.modem_sim import ModemSim

    sim = ModemSim(args.link, capacity=args.capacity, on_log=_print_log("modem-sim")).start()

    def handle(req):
        op = req["op"]
        if op == "sms":
            return {"slots": sim.deliver(str(req["from"]), str(req["text"]))}
        if op == "sent":
            return {"sent": [{"to": n, "text": t} for n, t in sim.sent_texts()]}
        if op == "storage":
            return {"slots": sorted(sim.storage)}
        raise ValueError("unknown op %r (sms, sent, storage)" % op)

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

    return demo.main(keep=args.keep)


def cmd_bench(args):
    from host_tools.bench import run_all

    return run_all.main(args.only)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="branchline-tools", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("modem-sim", help="simulate a GSM modem on a pseudo-terminal")
    p.add_argument("--link", required=True, help="path of the serial port to create")
    p.add_argument("--capacity", type=int, default=30, help="SIM storage slots")
    p.add_argument("--control", help="Unix socket for JSON control requests")
    p.set_defaults(func=cmd_modem_sim)

    p = sub.add_parser("panel-sim", help="simulate a desk button panel on a pseudo-terminal")
    p.add_argument("--link", required=True, help="path of the serial port to create")
    p.add_argument("--desks", type=int, default=4)
    p.add_argument("--control", help="Unix socket for JSON control requests")
    p.set_defaults(func=cmd_panel_sim)

    p = sub.add_parser("demo", help="run a simulated branch end to end")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="run the benchmarks (table + build/bench/*.json)")
    p.add_argument("only", nargs="*", help="names of benchmarks to run (default: all)")
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
