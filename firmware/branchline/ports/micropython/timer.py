"""call_later for MicroPython's asyncio, which has none: a task that sleeps, then calls."""

import asyncio


class _Delayed:
    def __init__(self, delay_s, function):
        self._task = asyncio.create_task(self._run(delay_s, function))

    async def _run(self, delay_s, function):
        await asyncio.sleep(delay_s)
        function()

    def cancel(self):
        self._task.cancel()


def call_later(delay_s, function):
    """Call `function()` once after `delay_s` seconds; -> a handle with cancel()."""
    return _Delayed(delay_s, function)
