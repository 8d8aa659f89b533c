"""What changed, for the pages that are open: a numbered feed of small notices that
the console streams as server-sent events.

A notice names what changed, never what it now says: {"convs": [ids], "desks":
[numbers], "board": true (queues and figures)}, or an offer {"offer": conv, "desk": d, "deadline": ms}. A
page fetches what it shows again when a notice concerns it, through the same checked
endpoints as a first load, so a notice carries no customer data and needs no
per-user filtering.

Ids are `<boot>-<n>`: a page that lost the link sends the last id it saw
(Last-Event-ID) and gets every notice since, if they are still among the last
`size`; otherwise, or after a restart (another boot), a {"reset": true} that makes it
fetch everything again. Nothing is missed either way.
"""

import asyncio

from branchline.core import jsonfmt
from branchline.text import is_digits

DEFAULT_SIZE = 64  # notices kept for pages that reconnect (~100 bytes each)


class Feed:
    def __init__(self, boot, size=DEFAULT_SIZE):
        self.boot = boot
        self.size = size
        self.last = 0  # number of the newest notice
        self._notices = []  # (n, JSON text), oldest first, at most `size`
        self._waiters = []  # asyncio.Event of each page waiting for the next notice
        self._convs = {}
        self._desks = {}
        self._board = False

    # -- gathering what one group of events changed -----------------------------------
    def touch_conv(self, conv):
        self._convs[conv] = True

    def touch_desk(self, desk):
        self._desks[desk] = True

    def touch_board(self):
        self._board = True

    def offer(self, conv, desk, deadline):
        self._add({"offer": conv, "desk": desk, "deadline": deadline})

    def publish(self):
        """One notice of everything touched since the last publish (if anything was)."""
        if not (self._convs or self._desks or self._board):
            return
        self._add({"convs": sorted(self._convs), "desks": sorted(self._desks),
                   "board": self._board})
        self._convs = {}
        self._desks = {}
        self._board = False

    def _add(self, notice):
        self.last += 1
        self._notices.append((self.last, jsonfmt.dumps(notice)))
        if len(self._notices) > self.size:
            self._notices.pop(0)
        waiters, self._waiters = self._waiters, []
        for event in waiters:
            event.set()

    # -- reading ---------------------------------------------------------------------
    def id_of(self, n):
        return "%d-%d" % (self.boot, n)

    def since(self, last_event_id):
        """-> (n to continue from, [(n, text)] to send now) for a page that last saw
        `last_event_id` (None: a new page, which loads everything itself)."""
        if last_event_id is None:
            return self.last, []
        boot, _, n = last_event_id.partition("-")
        if boot != str(self.boot) or not is_digits(n) or int(n) > self.last:
            return self.last, [(self.last, '{"reset":true}')]
        n = int(n)
        oldest = self._notices[0][0] if self._notices else self.last + 1
        if n + 1 < oldest and n < self.last:
            return self.last, [(self.last, '{"reset":true}')]
        return n, [item for item in self._notices if item[0] > n]

    def after(self, n):
        return [item for item in self._notices if item[0] > n]

    async def wait(self, timeout_s):
        """Until the next notice, or `timeout_s` (-> False) for a keep-alive."""
        event = asyncio.Event()
        self._waiters.append(event)
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
            return True
        except asyncio.TimeoutError:
            if event in self._waiters:
                self._waiters.remove(event)
            return False
