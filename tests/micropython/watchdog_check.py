# The edition's watchdog (ports/micropython/watchdog.py) under the unix port with the
# shim's WDT (feeds written to the file BL_WDT names): fed while every watched task runs
# and the ticker beats; starved, with one log line, when a task ends or the loop stalls.
# Prints each failed check and "watchdog: N checks, M failed".
import asyncio
import os
import time

from branchline.ports.micropython import watchdog
from tally import Tally

watchdog.FEED_S = 0.02
watchdog.STALL_MS = 200
tally = Tally("watchdog")


class Log:
    def __init__(self):
        self.lines = []

    def error(self, event, **fields):
        self.lines.append((event, fields))


def feeds():
    try:
        with open(os.getenv("BL_WDT")) as f:
            return len(f.read().split())
    except OSError:
        return 0



async def forever():
    while True:
        await asyncio.sleep(0.01)


async def dies_after(s):
    await asyncio.sleep(s)
    raise RuntimeError("a bug")


async def scenario(kill_task):
    log = Log()
    dog = watchdog.Watchdog(log)
    alive = asyncio.create_task(forever())
    doomed = asyncio.create_task(dies_after(0.15)) if kill_task else None
    dog.watch("alive", lambda: alive)
    dog.watch("reader", lambda: doomed)
    dog.watch("closed line", lambda: None)  # a line being reopened has no task: fine
    start = feeds()
    dog.start()
    stop = time.ticks_add(time.ticks_ms(), 400)
    while time.ticks_diff(stop, time.ticks_ms()) > 0:
        if kill_task:
            dog.beat()  # the ticker lives: only the task's end may starve it
        await asyncio.sleep(0.01)
    fed = feeds() - start
    await asyncio.sleep(0.1)
    after = feeds() - start - fed
    dog.stop()
    alive.cancel()
    return log, fed, after


async def main():
    log, fed, after = await scenario(kill_task=True)
    tally.check(fed >= 3, "fed while every task ran (%d feeds)" % fed)
    tally.check(after == 0, "no feed once a task ended (%d)" % after)
    tally.check(log.lines == [("watchdog_starved", {"reason": "task reader ended",
                                                    "reset_in_ms": 8000})],
                "one line says which task")
    log, fed, after = await scenario(kill_task=False)
    tally.check(after == 0 and log.lines and log.lines[0][1]["reason"] == "ticker stalled",
                "a ticker that stops beating starves it")


asyncio.run(main())
tally.summary()
