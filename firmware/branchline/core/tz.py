"""The branch's local time from UTC, by a POSIX TZ rule, in integer arithmetic.

A rule such as "GMT0BST,M3.5.0/1,M10.5.0" (the last line of every tzdata file, RFC 8536
section 3.3) says the standard offset, the daylight offset and when each begins: the
same text gives the same local time on every runtime, where CPython's zoneinfo exists
on one only. Dates are days since 1970-01-01 (Howard Hinnant's civil-date algorithms),
times seconds; nothing here reads a clock.
"""

DAY_S = 86400
MAX_RULE_HOURS = 167  # RFC 8536: transition times from -167 to 167 hours
ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class TzError(ValueError):
    """A rule that cannot be read (the message says where)."""


def days_from_civil(y, m, d):
    """Days from 1970-01-01 to the proleptic Gregorian date y-m-d."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) of the day `z` days after 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (yoe + era * 400 + (m <= 2), m, d)


def weekday(days):
    """0 Monday .. 6 Sunday (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_in_month(y, m):
    if m == 2:
        return 29 if is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


class _Reader:
    """A cursor over the rule text, for the parser's error messages."""

    def __init__(self, text):
        self.text = text
        self.at = 0

    def peek(self):
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self, chars):
        start = self.at
        while self.at < len(self.text) and self.text[self.at] in chars:
            self.at += 1
        return self.text[start:self.at]

    def fail(self, what):
        return TzError("timezone rule %r: %s at character %d" % (self.text, what, self.at + 1))

    def number(self, lo, hi, what):
        digits = self.take("0123456789")
        if not digits or len(digits) > 3:
            raise self.fail("expected %s" % what)
        value = int(digits)
        if not lo <= value <= hi:
            raise self.fail("%s must be %d..%d" % (what, lo, hi))
        return value


def _name(r):
    if r.peek() == "<":
        r.at += 1
        name = r.take(ALPHA + "0123456789+-")
        if r.peek() != ">":
            raise r.fail("unclosed <")
        r.at += 1
    else:
        name = r.take(ALPHA)
    if len(name) < 3:
        raise r.fail("a zone abbreviation needs 3 or more characters")
    return name


def _seconds(r, max_hours, what):
    """[+|-]hh[:mm[:ss]] -> seconds."""
    sign = 1
    if r.peek() in ("+", "-"):
        sign = -1 if r.peek() == "-" else 1
        r.at += 1
    total = r.number(0, max_hours, what + " hours") * 3600
    for unit in (60, 1):
        if r.peek() != ":":
            break
        r.at += 1
        total += r.number(0, 59, what + (" minutes" if unit == 60 else " seconds")) * unit
    return sign * total


def _date(r):
    """Jn, n or Mm.w.d -> ("J", n) / ("N", n) / ("M", m, w, d)."""
    if r.peek() == "J":
        r.at += 1
        return ("J", r.number(1, 365, "Julian day"))
    if r.peek() == "M":
        r.at += 1
        m = r.number(1, 12, "month")
        parts = [m]
        for lo, hi, what in ((1, 5, "week"), (0, 6, "weekday")):
            if r.peek() != ".":
                raise r.fail("expected '.'")
            r.at += 1
            parts.append(r.number(lo, hi, what))
        return ("M", parts[0], parts[1], parts[2])
    return ("N", r.number(0, 365, "day of the year"))


def _transition(r):
    date = _date(r)
    time_s = 7200  # 02:00 local, POSIX's default
    if r.peek() == "/":
        r.at += 1
        time_s = _seconds(r, MAX_RULE_HOURS, "transition")
    return (date, time_s)


def _day_of(date, year):
    """Days since 1970-01-01 of a rule's date in `year`."""
    if date[0] == "J":  # 1..365, February 29 never counted
        n = date[1]
        return days_from_civil(year, 1, 1) + n - 1 + (1 if is_leap(year) and n >= 60 else 0)
    if date[0] == "N":  # 0..365, February 29 counted
        return days_from_civil(year, 1, 1) + date[1]
    _, m, w, d = date
    first = days_from_civil(year, m, 1)
    # POSIX's d is 0 Sunday; weekday() is 0 Monday.
    day = first + (d - (weekday(first) + 1) % 7) % 7 + (w - 1) * 7
    last = first + days_in_month(year, m) - 1
    while day > last:  # week 5: the last such weekday of the month
        day -= 7
    return day


class TzRule:
    """A parsed rule: `std_s` the UTC offset of standard time (east positive, unlike the
    text), `dst_s` that of daylight time or None, `start`/`end` ((date), local time)."""

    __slots__ = ("text", "std_s", "dst_s", "start", "end")

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise TzError("timezone rule: must be a POSIX TZ text such as UTC0 or "
                          "GMT0BST,M3.5.0/1,M10.5.0")
        self.text = text
        r = _Reader(text)
        _name(r)
        self.std_s = -_seconds(r, 24, "offset")
        self.dst_s = None
        self.start = self.end = None
        if r.peek():
            _name(r)
            self.dst_s = self.std_s + 3600
            if r.peek() and r.peek() != ",":
                self.dst_s = -_seconds(r, 24, "daylight offset")
            if r.peek() != ",":
                raise r.fail("daylight time needs its rules (,start[/time],end[/time])")
            r.at += 1
            self.start = _transition(r)
            if r.peek() != ",":
                raise r.fail("expected ',' and the end of daylight time")
            r.at += 1
            self.end = _transition(r)
        if r.peek():
            raise r.fail("unexpected %r" % r.peek())

    def _bounds(self, year):
        """UTC seconds when daylight time begins and ends in `year`."""
        start = _day_of(self.start[0], year) * DAY_S + self.start[1] - self.std_s
        end = _day_of(self.end[0], year) * DAY_S + self.end[1] - self.dst_s
        return start, end

    def offset(self, utc_s):
        """The UTC offset (s, east positive) in force at `utc_s`."""
        if self.dst_s is None:
            return self.std_s
        year = civil_from_days((utc_s + self.std_s) // DAY_S)[0]
        start, end = self._bounds(year)
        if start < end:  # northern hemisphere: daylight time inside the year
            return self.dst_s if start <= utc_s < end else self.std_s
        return self.std_s if end <= utc_s < start else self.dst_s

    def local(self, utc_s):
        return utc_s + self.offset(utc_s)

    def to_utc(self, local_s):
        """The UTC second at which local clocks show `local_s`: of two (clocks set
        back), the first; in a gap (clocks set forward), the moment the gap ends."""
        offsets = (self.std_s,) if self.dst_s is None else sorted((self.std_s, self.dst_s))
        best = None
        for off in offsets:
            utc = local_s - off
            if self.offset(utc) == off and (best is None or utc < best):
                best = utc
        if best is not None:
            return best
        # A gap: this local time never happens; the clocks jump past it at the
        # transition that lies between its two readings.
        year = civil_from_days(local_s // DAY_S)[0]
        for bound in self._bounds(year):
            if local_s - offsets[1] <= bound <= local_s - offsets[0]:
                return bound
        return local_s - offsets[0]  # unreachable for a rule that parsed
