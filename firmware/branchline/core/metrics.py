"""Contact-center figures, from what the core tells it, with time passed in.

docs/metrics.md defines each figure and names its source. Everything is integer
arithmetic (milliseconds, per-mille, milli-units), so every runtime computes the same
bytes; ratios and means round half up.

Counters are kept per scope (the whole branch, each queue, each desk) in four buckets:
the current interval (`interval_s`, 15 minutes by default), the day (UTC), the last
completed interval and the running totals. Counts go to the current interval only; it
is added into the day and the totals when it ends, and reports of the day so far and
the totals add it in then (so a count costs a third of what it would in three
buckets). A scope's counters exist once something happened in it, so an idle queue or
desk costs nothing. A new interval or day begins
when time reaches it (`advance`), and the one that ended is returned for head office.
Desks' time (signed in, busy, holding) is integrated between the changes the core
reports (`desk_state`), split exactly at interval boundaries.
"""

from branchline.core.later import Later

# One counter per name, in this order in every scope's list.
COUNTERS = (
    "offered",  # conversations that entered a queue (a queue's: those that entered it)
    "answered",  # taken up by a desk
    "answered_in_sl",  # ... within service_level_s of arriving
    "wait_ms",  # sum of waits of the answered
    "longest_wait_ms",  # longest wait of one answered or abandoned (a max, not a sum)
    "abandoned",  # gave up waiting after short_abandon_s or more
    "abandoned_in_sl",  # ... within service_level_s
    "short_abandoned",  # gave up within short_abandon_s: left out of service level
    "first_responses",  # first agent replies
    "first_response_ms",  # sum of (first reply - arrival or hand-off)
    "responses",  # agent replies that answered a customer's message
    "response_ms",  # sum of (reply - the earliest message it answered)
    "handled",  # conversations wrapped up by a desk
    "handle_ms",  # sum of active time plus the wrap-up that followed
    "transfers",
    "escalations",
    "callbacks_requested",
    "callbacks_completed",
    "offers",  # offers made to desks
    "missed_offers",  # offers that timed out
    "available_ms",  # desks: signed in (available, in wrap-up, or holding)
    "busy_ms",  # desks: holding a conversation or in wrap-up
    "held_ms",  # desks: integral of conversations held
    "active_ms",  # desks: time holding at least one conversation
    "wait_calendar_ms",  # sum of waits of the answered, in calendar time
    "answered_in_sl_calendar",  # answered within service_level_s, in calendar time
    "self_service",  # conversations the menu took
    "contained",  # ... and solved alone (an FAQ answer)
    "reopened",  # closed conversations the customer reopened
    "after_hours",  # conversations that reached a queue while it was closed
    "surveys_sent",
    "csat_responses",
    "csat_sum",  # of the scores (1-5)
    "csat_1", "csat_2", "csat_3", "csat_4", "csat_5",  # responses per score
    "callback_attempts",  # calls made for callback requests
    "callbacks_reached",
    "callbacks_unreached",  # closed after callback_max_attempts calls
)
_N = len(COUNTERS)
_AT = {}
for _i, _name in enumerate(COUNTERS):
    _AT[_name] = _i
_LONGEST = _AT["longest_wait_ms"]
_OFFERED = _AT["offered"]
_ANSWERED = _AT["answered"]
_ANSWERED_IN_SL = _AT["answered_in_sl"]
_WAIT_MS = _AT["wait_ms"]
_ABANDONED = _AT["abandoned"]
_ABANDONED_IN_SL = _AT["abandoned_in_sl"]
_SHORT_ABANDONED = _AT["short_abandoned"]
_FIRST_RESPONSES = _AT["first_responses"]
_FIRST_RESPONSE_MS = _AT["first_response_ms"]
_RESPONSES = _AT["responses"]
_RESPONSE_MS = _AT["response_ms"]
_HANDLED = _AT["handled"]
_HANDLE_MS = _AT["handle_ms"]
_TRANSFERS = _AT["transfers"]
_ESCALATIONS = _AT["escalations"]
_CALLBACKS_REQUESTED = _AT["callbacks_requested"]
_CALLBACKS_COMPLETED = _AT["callbacks_completed"]
_OFFERS = _AT["offers"]
_MISSED_OFFERS = _AT["missed_offers"]
_AVAILABLE_MS = _AT["available_ms"]
_BUSY_MS = _AT["busy_ms"]
_HELD_MS = _AT["held_ms"]
_ACTIVE_MS = _AT["active_ms"]
_WAIT_CALENDAR_MS = _AT["wait_calendar_ms"]
_ANSWERED_IN_SL_CALENDAR = _AT["answered_in_sl_calendar"]
_SELF_SERVICE = _AT["self_service"]
_CONTAINED = _AT["contained"]
_REOPENED = _AT["reopened"]
_AFTER_HOURS = _AT["after_hours"]
_SURVEYS_SENT = _AT["surveys_sent"]
_CSAT_RESPONSES = _AT["csat_responses"]
_CSAT_SUM = _AT["csat_sum"]
_CSAT_1 = _AT["csat_1"]
_CALLBACK_ATTEMPTS = _AT["callback_attempts"]
_CALLBACKS_REACHED = _AT["callbacks_reached"]
_CALLBACKS_UNREACHED = _AT["callbacks_unreached"]
DAY_MS = 86400000
SERIES_FIELDS = 5  # of an interval in Metrics.series: start after the day's, offered,
# answered, answered in service level, abandoned


def ratio_pm(part, whole):
    """part / whole in per-mille, rounded half up; None when whole is 0."""
    return (2000 * part + whole) // (2 * whole) if whole else None


def mean(total, count):
    """total / count rounded half up; None when count is 0."""
    return (2 * total + count) // (2 * count) if count else None


def figures(c, service_level_s):
    """The figures of one scope's counter list `c` (docs/metrics.md)."""
    answered = c[1]
    abandoned = c[5]
    return {
        "offered": c[0],
        "answered": answered,
        "abandoned": abandoned,
        "short_abandoned": c[7],
        "service_level_s": service_level_s,
        "service_level_pm": ratio_pm(c[2], answered + abandoned),
        "service_level2_pm": ratio_pm(c[2] + c[6], answered + abandoned),
        "asa_ms": mean(c[3], answered),
        "longest_wait_ms": c[_LONGEST],
        "first_response_ms": mean(c[9], c[8]),
        "response_ms": mean(c[11], c[10]),
        "handle_ms": mean(c[13], c[12]),
        "handled": c[12],
        "transfers": c[14],
        "escalations": c[15],
        "transfers_per_conversation_pm": ratio_pm(c[14], c[12]),
        "escalations_per_conversation_pm": ratio_pm(c[15], c[12]),
        "callbacks_requested": c[16],
        "callbacks_completed": c[17],
        "offers": c[18],
        "missed_offers": c[19],
        "occupancy_pm": ratio_pm(c[21], c[20]),
        "concurrency_milli": ratio_pm(c[22], c[23]),
        "service_level_calendar_pm": ratio_pm(c[25], answered + abandoned),
        "asa_calendar_ms": mean(c[24], answered),
        "self_service": c[26],
        "contained": c[27],
        "containment_pm": ratio_pm(c[27], c[26]),
        "reopened": c[28],
        "after_hours": c[29],
        "surveys_sent": c[30],
        "csat_responses": c[31],
        "csat_avg_milli": ratio_pm(c[32], c[31]),  # the mean score, x 1000
        "csat_distribution": c[33:38],  # responses scoring 1, 2, 3, 4, 5
        "csat_response_rate_pm": ratio_pm(c[31], c[30]),
        "callback_attempts": c[38],
        "callbacks_reached": c[39],
        "callbacks_unreached": c[40],
    }


class Bucket:
    """Counters of one period, per scope: "" the branch, "q:<queue>", "d:<desk>"."""

    __slots__ = ("start", "end", "scopes")

    def __init__(self, start, end):
        self.start = start
        self.end = end
        self.scopes = {}

    def counters(self, scope):
        c = self.scopes.get(scope)
        if c is None:
            c = self.scopes[scope] = [0] * _N
        return c

    def add(self, other):
        """Count `other`'s counters into this bucket's (sums; the longest wait a max)."""
        for scope, theirs in other.scopes.items():
            mine = self.scopes.get(scope)
            if mine is None:  # a copy: what `plus` does first, for every scope
                self.scopes[scope] = theirs[:]
                continue
            longest = max(mine[_LONGEST], theirs[_LONGEST])
            for i in range(_N):
                mine[i] += theirs[i]
            mine[_LONGEST] = longest

    def copy(self):
        """A new bucket holding this one's counts as they are now."""
        frozen = Bucket(self.start, self.end)
        frozen.add(self)
        return frozen

    def plus(self, other):
        """A new bucket of this one's period holding both's counts (for reports)."""
        both = self.copy()
        both.add(other)
        return both

    def report(self, service_level_s):
        out = {"start": self.start, "end": self.end, "queues": {}, "desks": {}}
        out["all"] = figures(self.scopes.get("") or [0] * _N, service_level_s)
        for scope in sorted(self.scopes):
            if scope:
                group = "queues" if scope[0] == "q" else "desks"
                out[group][scope[2:]] = figures(self.scopes[scope], service_level_s)
        return out

    def dump(self):
        return [self.start, self.end, self.scopes]

    @classmethod
    def load(cls, doc):
        b = cls(doc[0], doc[1])
        b.scopes = doc[2]
        return b


def _interval_body(interval, day, day_complete):
    def make():
        body = {"interval": interval(), "day": day()}
        if day_complete:
            body["day_complete"] = True
        return body

    return make


def _metrics_body(last_interval, day):
    def make():
        return {"last_interval": last_interval() if last_interval else None,
                "day": day() if day else None}

    return make


class _DeskClock:
    """A desk's state between two changes, for the time integrals."""

    __slots__ = ("since", "signed_in", "held", "wrapup")

    def __init__(self, now):
        self.since = now
        self.signed_in = False
        self.held = 0
        self.wrapup = False


class Metrics:
    def __init__(self, service_level_s, short_abandon_s=0, interval_s=900):
        self.service_level_ms = service_level_s * 1000
        self.short_abandon_ms = short_abandon_s * 1000
        self.interval_ms = interval_s * 1000
        self.totals = Bucket(None, None)
        self.interval = None  # the current one, from the first event's time on
        self.day = None
        self.last_interval = None
        self._desks = {}  # desk -> _DeskClock
        self._row_cache = {}  # (queue, desk) -> counter rows, for the current buckets
        self._last_report = None  # last_interval's report (a Later)
        # The day's completed intervals that had traffic, for the wallboard's chart:
        # SERIES_FIELDS small ints each (21 bytes an interval on MicroPython).
        self.series = []

    # -- time ----------------------------------------------------------------------
    def next_boundary(self):
        """When the current interval ends (ms), or None before the first event."""
        return self.interval.end if self.interval is not None else None

    def advance(self, now):
        """Move to the interval (and day) `now` falls in. -> for each interval that
        ended with something in it, oldest first, a function making head office's
        `interval` body: {"interval": its report, "day": the day so far}, plus
        "day_complete": true when the day ended with it. The counts are frozen now;
        the reports are made when it is called (core/later.py)."""
        interval = self.interval
        if interval is not None and now < interval.end:
            return []  # every event asks: the usual answer first
        if interval is None:
            start = now - now % self.interval_ms
            self.interval = Bucket(start, start + self.interval_ms)
            self.day = Bucket(now - now % DAY_MS, now - now % DAY_MS + DAY_MS)
            self._row_cache = {}
            return []
        done = []
        sl_s = self.service_level_ms // 1000
        while now >= self.interval.end:
            end = self.interval.end
            self._integrate_desks(end)
            self.day.add(self.interval)
            self.totals.add(self.interval)
            self.last_interval = self.interval
            # A completed interval no longer changes: its report serves every metrics
            # message until the next one ends.
            self._last_report = Later(self.interval.report, sl_s)
            day_over = end >= self.day.end
            if self.interval.scopes or day_over:
                day = Later(self.day.copy().report, sl_s)
                done.append(_interval_body(self._last_report, day, day_over))
            branch = self.interval.scopes.get("")
            if branch is not None:
                self.series.extend((self.interval.start - self.day.start, branch[_OFFERED],
                                    branch[_ANSWERED], branch[_ANSWERED_IN_SL],
                                    branch[_ABANDONED]))
            self.interval = Bucket(end, end + self.interval_ms)
            self._row_cache = {}
            if day_over:  # intervals divide the day (config), so days end on a boundary
                self.day = Bucket(end, end + DAY_MS)
                self.series = []
        return done

    def _rows(self, queue, desk):
        """The current interval's counter rows a count about `queue` and `desk` adds
        to: each scope it falls in (the branch, the queue, the desk). Made once per pair
        and interval: counting is then two or three list additions."""
        scopes = [""]
        if queue is not None:
            scopes.append("q:" + queue)
        if desk is not None:
            scopes.append("d:%d" % desk)
        rows = self._row_cache[(queue, desk)] = [self.interval.counters(s) for s in scopes]
        return rows

    def _rows_of(self, queue, desk=None):
        return self._row_cache.get((queue, desk)) or self._rows(queue, desk)

    def _add(self, i, amount, queue, desk=None):
        for row in self._rows_of(queue, desk):
            row[i] += amount

    def _longest(self, wait_ms, queue):
        for row in self._rows_of(queue):
            if wait_ms > row[_LONGEST]:
                row[_LONGEST] = wait_ms

    # -- what happened (the core calls these as things happen) ---------------------
    # Several counters of one event go in one pass over its rows; offers and missed
    # offers, which come several times per event when desks let offers run out, look
    # their rows up themselves.
    def on_self_service(self):
        self._add(_SELF_SERVICE, 1, None)

    def on_contained(self):
        self._add(_CONTAINED, 1, None)

    def on_reopened(self, queue):
        self._add(_REOPENED, 1, queue)

    def on_after_hours(self, queue):
        self._add(_AFTER_HOURS, 1, queue)

    def on_callback_requested(self, queue):
        self._add(_CALLBACKS_REQUESTED, 1, queue)

    def on_survey_sent(self, queue, desk):
        self._add(_SURVEYS_SENT, 1, queue, desk)

    def on_csat(self, queue, desk, score):
        for row in self._rows_of(queue, desk):
            row[_CSAT_RESPONSES] += 1
            row[_CSAT_SUM] += score
            row[_CSAT_1 + score - 1] += 1

    def on_callback_attempt(self, queue, desk, outcome):
        """A desk called a callback request's customer: `outcome` reached, no_answer
        or retry."""
        for row in self._rows_of(queue, desk):
            row[_CALLBACK_ATTEMPTS] += 1
            if outcome == "reached":
                row[_CALLBACKS_REACHED] += 1

    def on_callback_unreached(self, queue):
        self._add(_CALLBACKS_UNREACHED, 1, queue)

    def on_offered(self, queue, callback=False):
        for row in self._rows_of(queue):
            row[_OFFERED] += 1
            if callback:
                row[_CALLBACKS_REQUESTED] += 1

    def on_offer(self, queue, desk):
        for row in self._row_cache.get((queue, desk)) or self._rows(queue, desk):
            row[_OFFERS] += 1

    def on_missed_offer(self, queue, desk):
        for row in self._row_cache.get((queue, desk)) or self._rows(queue, desk):
            row[_MISSED_OFFERS] += 1

    def on_answered(self, queue, desk, wait_ms, calendar_wait_ms):
        """`wait_ms` counts only time inside the queue's opening hours; the calendar
        variants count all of it."""
        in_sl = 1 if wait_ms <= self.service_level_ms else 0
        in_sl_calendar = 1 if calendar_wait_ms <= self.service_level_ms else 0
        for row in self._rows_of(queue, desk):
            row[_ANSWERED] += 1
            row[_WAIT_MS] += wait_ms
            row[_ANSWERED_IN_SL] += in_sl
            row[_WAIT_CALENDAR_MS] += calendar_wait_ms
            row[_ANSWERED_IN_SL_CALENDAR] += in_sl_calendar
        self._longest(wait_ms, queue)

    def on_abandoned(self, queue, wait_ms):
        if wait_ms < self.short_abandon_ms:
            self._add(_SHORT_ABANDONED, 1, queue)
            return
        in_sl = 1 if wait_ms <= self.service_level_ms else 0
        for row in self._rows_of(queue):
            row[_ABANDONED] += 1
            row[_ABANDONED_IN_SL] += in_sl
        self._longest(wait_ms, queue)

    def on_first_response(self, queue, desk, after_ms):
        for row in self._rows_of(queue, desk):
            row[_FIRST_RESPONSES] += 1
            row[_FIRST_RESPONSE_MS] += after_ms

    def on_response(self, queue, desk, after_ms):
        for row in self._rows_of(queue, desk):
            row[_RESPONSES] += 1
            row[_RESPONSE_MS] += after_ms

    def on_handled(self, queue, desk, handle_ms, callback=False):
        for row in self._rows_of(queue, desk):
            row[_HANDLED] += 1
            row[_HANDLE_MS] += handle_ms
            if callback:
                row[_CALLBACKS_COMPLETED] += 1

    def on_transfer(self, queue, desk):
        self._add(_TRANSFERS, 1, queue, desk)

    def on_escalation(self, queue, desk):
        self._add(_ESCALATIONS, 1, queue, desk)

    def desk_state(self, desk, now, signed_in, held, wrapup):
        """The desk's state from `now` on: signed in (not offline, not on break),
        conversations held, in wrap-up. Time since its last change is counted first."""
        clock = self._desks.get(desk)
        if clock is None:
            clock = self._desks[desk] = _DeskClock(now)
        self._integrate(desk, clock, now)
        clock.signed_in = signed_in
        clock.held = held
        clock.wrapup = wrapup

    def _integrate_desks(self, until):
        for desk in sorted(self._desks):
            self._integrate(desk, self._desks[desk], until)

    def _integrate(self, desk, clock, until):
        span = until - clock.since
        clock.since = until
        if span <= 0:
            return
        held = clock.held
        busy = held > 0 or clock.wrapup
        available = clock.signed_in or held
        if not (available or busy):
            return  # off or on break: nothing counts (and no scope is made for it)
        for row in self._rows_of(None, desk):
            if available:
                row[_AVAILABLE_MS] += span
            if busy:
                row[_BUSY_MS] += span
            if held:
                row[_HELD_MS] += span * held
                row[_ACTIVE_MS] += span

    # -- reports -------------------------------------------------------------------
    def report(self, now):
        """Head office's `metrics` body: the last completed interval and the day so far,
        desks' time counted up to `now` (the totals are the console's: `summary`)."""
        return self.report_later(now)()

    def report_later(self, now):
        """`report`, as a function making it from the counts as they are now."""
        self._integrate_desks(now)
        if self.interval is None:
            return _metrics_body(None, None)
        day = Later(self.day.plus(self.interval).report, self.service_level_ms // 1000)
        return _metrics_body(self._last_report, day)

    def summary(self):
        """The running totals of the whole branch (the console's and the demo's view)."""
        totals = self.totals.plus(self.interval) if self.interval else self.totals
        return figures(totals.scopes.get("") or [0] * _N, self.service_level_ms // 1000)

    def now_figures(self, scope):
        """(the current interval's figures, the day's so far) of one scope ("" the
        branch, "q:<queue>", "d:<desk>"), for the wallboard."""
        sl_s = self.service_level_ms // 1000
        empty = [0] * _N
        if self.interval is None:
            return figures(empty, sl_s), figures(empty, sl_s)
        now = self.interval.scopes.get(scope) or empty
        before = self.day.scopes.get(scope) or empty
        day = [before[i] + now[i] for i in range(_N)]
        day[_LONGEST] = max(before[_LONGEST], now[_LONGEST])
        return figures(now, sl_s), figures(day, sl_s)

    def day_series(self):
        """The day's completed intervals with traffic, oldest first: {"start" (ms),
        "offered", "answered", "abandoned", "service_level_pm"}."""
        out = []
        s = self.series
        for i in range(0, len(s), SERIES_FIELDS):
            out.append({"start": self.day.start + s[i], "offered": s[i + 1],
                        "answered": s[i + 2], "abandoned": s[i + 4],
                        "service_level_pm": ratio_pm(s[i + 3], s[i + 2] + s[i + 4])})
        return out

    # -- snapshots -----------------------------------------------------------------
    def dump(self):
        buckets = []
        for b in (self.interval, self.day, self.last_interval, self.totals):
            buckets.append(b.dump() if b is not None else None)
        desks = {}
        for desk, c in self._desks.items():
            desks[str(desk)] = [c.since, c.signed_in, c.held, c.wrapup]
        return {"buckets": buckets, "desks": desks, "series": self.series}

    def load(self, doc):
        loaded = [Bucket.load(b) if b is not None else None for b in doc["buckets"]]
        self.interval, self.day, self.last_interval, self.totals = loaded
        self._row_cache = {}
        sl_s = self.service_level_ms // 1000
        self._last_report = Later(self.last_interval.report, sl_s) if self.last_interval else None
        self.series = doc["series"]
        self._desks = {}
        for desk, (since, signed_in, held, wrapup) in doc["desks"].items():
            clock = _DeskClock(since)
            clock.signed_in, clock.held, clock.wrapup = signed_in, held, wrapup
            self._desks[int(desk)] = clock
