"""Opening hours: when a queue is open, when it next opens, and how much of a wait fell
inside them, in the branch's local time (core/tz.py), with time passed in.

Configuration (the branch's "hours", or a queue's own):

    {"weekly": {"mon": ["09:00-12:30", "13:30-17:00"], ..., "sat": ["09:00-12:00"]},
     "holidays": ["2026-12-25"],
     "special_days": {"2026-12-24": ["09:00-12:00"]}}

A weekday missing from "weekly" is closed; a holiday is closed all day; a special day
has its own ranges instead of its weekday's. Ranges are local wall-clock times, "24:00"
ending a day; a range across a daylight-saving change is as long as the clocks say.
"""

from branchline.core.config_error import ConfigError
from branchline.core.tz import DAY_S, days_from_civil, days_in_month, weekday

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_KEYS = ("weekly", "holidays", "special_days")
DAY_MS = DAY_S * 1000
SEARCH_DAYS = 400  # a calendar closed for longer than this never opens
MAX_RANGES = 8  # per day: plenty for split shifts, bounded for the ESP32


def _digits2(text, at):
    pair = text[at:at + 2]
    if len(pair) != 2 or not ("0" <= pair[0] <= "9" and "0" <= pair[1] <= "9"):
        return None
    return int(pair)


def _minute(text):
    """"HH:MM" -> minutes, 00:00..24:00, or None."""
    if len(text) != 5 or text[2] != ":":
        return None
    h, m = _digits2(text, 0), _digits2(text, 3)
    if h is None or m is None or m > 59 or h * 60 + m > 1440:
        return None
    return h * 60 + m


def parse_date(text):
    """"YYYY-MM-DD" -> days since 1970-01-01, or None."""
    if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    hi, lo = _digits2(text, 0), _digits2(text, 2)
    m, d = _digits2(text, 5), _digits2(text, 8)
    if None in (hi, lo, m, d) or not 1 <= m <= 12:
        return None
    y = hi * 100 + lo
    if not 1 <= d <= days_in_month(y, m):
        return None
    return days_from_civil(y, m, d)


def _ranges(value, where):
    """["09:00-12:30", ...] -> [(540, 750), ...] in order, not overlapping."""
    if not isinstance(value, list) or len(value) > MAX_RANGES:
        raise ConfigError("%s: must be a list of at most %d ranges like \"09:00-17:00\""
                         % (where, MAX_RANGES))
    out = []
    for i, text in enumerate(value):
        start = end = None
        if isinstance(text, str) and len(text) == 11 and text[5] == "-":
            start, end = _minute(text[:5]), _minute(text[6:])
        if start is None or end is None or start >= end:
            raise ConfigError("%s[%d]: expected HH:MM-HH:MM with the end after the start, "
                             "got %r" % (where, i, text))
        if out and start < out[-1][1]:
            raise ConfigError("%s[%d]: %r begins before the range before it ends"
                             % (where, i, text))
        out.append((start, end))
    return out


class Calendar:
    """One queue's opening hours under `rule` (a tz.TzRule)."""

    def __init__(self, rule, doc, where="hours"):
        if not isinstance(doc, dict):
            raise ConfigError("%s: must be an object" % where)
        for key in sorted(doc):
            if key not in HOURS_KEYS:
                raise ConfigError("%s.%s: unknown key (use %s)"
                                  % (where, key, ", ".join(HOURS_KEYS)))
        self.rule = rule
        weekly = doc.get("weekly", {})
        if not isinstance(weekly, dict):
            raise ConfigError("%s.weekly: must be an object of weekdays" % where)
        self._weekly = [[] for _ in WEEKDAYS]
        for name in sorted(weekly):
            if name not in WEEKDAYS:
                raise ConfigError("%s.weekly.%s: not a weekday (use %s)"
                                 % (where, name, ", ".join(WEEKDAYS)))
            self._weekly[WEEKDAYS.index(name)] = _ranges(weekly[name],
                                                         "%s.weekly.%s" % (where, name))
        self._special = {}
        holidays = doc.get("holidays", [])
        if not isinstance(holidays, list):
            raise ConfigError("%s.holidays: must be a list of dates (YYYY-MM-DD)" % where)
        for i, text in enumerate(holidays):
            day = parse_date(text)
            if day is None:
                raise ConfigError("%s.holidays[%d]: expected a date YYYY-MM-DD, got %r"
                                 % (where, i, text))
            self._special[day] = []
        special = doc.get("special_days", {})
        if not isinstance(special, dict):
            raise ConfigError("%s.special_days: must be an object of dates" % where)
        for text in sorted(special):
            day = parse_date(text)
            if day is None:
                raise ConfigError("%s.special_days.%s: expected a date YYYY-MM-DD" % (where, text))
            if day in self._special:
                raise ConfigError("%s.special_days.%s: is also a holiday" % (where, text))
            self._special[day] = _ranges(special[text], "%s.special_days.%s" % (where, text))
        self._span = None  # (from_ms, until_ms, open): the last span found, reused

    def ranges_on(self, day):
        """The local (start, end) minutes open on `day` (days since 1970-01-01)."""
        ranges = self._special.get(day)
        return ranges if ranges is not None else self._weekly[weekday(day)]

    def _utc_ms(self, day, minute):
        return self.rule.to_utc(day * DAY_S + minute * 60) * 1000

    def span(self, t):
        """(open, until): whether the queue is open at `t` (ms) and when that changes
        (ms; None: closed for good). Ranges that touch (a day's 24:00 and the next 00:00)
        are one span."""
        cached = self._span
        if cached is not None and cached[0] <= t and (cached[1] is None or t < cached[1]):
            return cached[2], cached[1]
        today = self.rule.local(t // 1000) // DAY_S
        found = None
        day = today - 1  # a range of yesterday's may still run (a clock set back)
        while day <= today + SEARCH_DAYS and found is None:
            for start, end in self.ranges_on(day):
                start_ms, end_ms = self._utc_ms(day, start), self._utc_ms(day, end)
                if t < start_ms:
                    found = (t, start_ms, False)
                    break
                if t < end_ms:
                    found = (start_ms, self._open_until(day, end, end_ms), True)
                    break
            day += 1
        if found is None:
            found = (t, None, False)
        self._span = found
        return found[2], found[1]

    def _open_until(self, day, end, end_ms):
        """Where an open range ending at (`day`, `end`) really ends: later when the
        next range begins as it ends. Bounded by a week so 24/7 hours stay cheap."""
        for _ in range(7):
            if end != 1440:
                return end_ms
            day += 1
            ranges = self.ranges_on(day)
            if not ranges or ranges[0][0] != 0:
                return end_ms
            end = ranges[0][1]
            end_ms = self._utc_ms(day, end)
        return end_ms

    def is_open(self, t):
        return self.span(t)[0]

    def next_open(self, t):
        """When the queue is next open at or after `t` (ms), or None."""
        is_open, until = self.span(t)
        return t if is_open else until

    def open_ms(self, a, b):
        """How many of the milliseconds from `a` to `b` fell inside opening hours."""
        cached = self._span
        if cached is not None and cached[2] and cached[0] <= a and cached[0] <= b and (
                cached[1] is None or b <= cached[1]):
            return b - a  # all inside the span the last question found (the commonest)
        total = 0
        while a < b:
            is_open, until = self.span(a)
            end = b if until is None or until > b else until
            if is_open:
                total += end - a
            a = end
        return total

    def local_day_and_minute(self, t):
        local_s = self.rule.local(t // 1000)
        return local_s // DAY_S, local_s % DAY_S // 60


def hh_mm(minute):
    return "%02d:%02d" % (minute // 60, minute % 60)


def describe_ranges(ranges):
    """[(540, 1020)] -> "09:00-17:00" (several joined by ", "); "" when closed."""
    return ", ".join("%s-%s" % (hh_mm(s), hh_mm(e)) for s, e in ranges)
