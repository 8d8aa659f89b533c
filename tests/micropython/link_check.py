# The edition's UART link (ports/micropython/uart_link.py) under the unix port with the
# shim's UART: bytes in, a read error mid-stream (the link's own reader drops it, which
# MicroPython's asyncio cannot do by cancelling itself), the retry, the reopened link
# reading again with one reader only, and the RS-485 driver enable released.
# Prints "link: N checks, M failed".
import asyncio

import machine

from branchline.ports.micropython import uart_link

uart_link.RETRY_S = 0.05
checks = []


def check(what, ok):
    checks.append(ok)
    print(("ok   " if ok else "FAIL ") + what)


class Log:
    def __init__(self):
        self.events = []

    def info(self, event, **fields):
        self.events.append(event)

    warn = error = info


async def main():
    got = []
    opened = []
    lost = []
    log = Log()
    link = uart_link.UartLink("panel", {"id": 2, "tx": 4, "rx": 36, "de": 13}, 115200,
                              got.append, lambda: opened.append(1), lambda: lost.append(1),
                              log)
    link.open()
    first = machine.UART.LAST
    first.rx.extend(b"hello")
    await asyncio.sleep(0.03)
    check("bytes in", got == [b"hello"])
    first.watch = machine.PINS[13]
    link.write(b"poll")
    check("written with the driver enable raised", first.tx == [(b"poll", 1)]
          and machine.PINS[13].value() == 0)
    first.broken = True
    await asyncio.sleep(0.03)
    check("a read error drops the link once", lost == [1] and not link.is_open
          and log.events.count("serial_lost") == 1)
    check("the driver enable is released", machine.PINS[13].value() == 0)
    await asyncio.sleep(0.15)
    second = machine.UART.LAST
    check("reopened after the retry", len(opened) == 2 and link.is_open and second is not first)
    second.rx.extend(b"again")
    await asyncio.sleep(0.03)
    check("read again, once", got == [b"hello", b"again"])
    link.close()
    await asyncio.sleep(0.02)
    check("closed for good", not link.is_open and len(opened) == 2)


asyncio.run(main())
print("link: %d checks, %d failed" % (len(checks), checks.count(False)))
