# The edition's UART link (ports/micropython/uart_link.py) under the unix port with the
# shim's UART: bytes in, a read error mid-stream (the link's own reader drops it, which
# MicroPython's asyncio cannot do by cancelling itself), the retry, the reopened link
# reading again with one reader only, and the RS-485 driver enable released.
# Prints each failed check and "link: N checks, M failed".
import asyncio

import machine

from branchline.ports.micropython import uart_link
from tally import Tally

uart_link.RETRY_S = 0.05
tally = Tally("link")


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
    tally.check(got == [b"hello"], "bytes in")
    first.watch = machine.PINS[13]
    link.write(b"poll")
    tally.check(first.tx == [(b"poll", 1)] and machine.PINS[13].value() == 0,
                "written with the driver enable raised")
    first.broken = True
    await asyncio.sleep(0.03)
    tally.check(lost == [1] and not link.is_open and log.events.count("serial_lost") == 1,
                "a read error drops the link once")
    tally.check(machine.PINS[13].value() == 0, "the driver enable is released")
    await asyncio.sleep(0.15)
    second = machine.UART.LAST
    tally.check(len(opened) == 2 and link.is_open and second is not first,
                "reopened after the retry")
    second.rx.extend(b"again")
    await asyncio.sleep(0.03)
    tally.check(got == [b"hello", b"again"], "read again, once")
    link.close()
    await asyncio.sleep(0.02)
    tally.check(not link.is_open and len(opened) == 2, "closed for good")


asyncio.run(main())
tally.summary()
