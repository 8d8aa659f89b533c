"""The portable TZ rules against CPython's zoneinfo, for every day of several years and
every transition: the rule is the one tzdata itself ends each zone's file with."""

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings, strategies as st

from branchline.core.hours import Calendar
from branchline.core.tz import DAY_S, TzRule, days_from_civil

# Zones of both hemispheres, half-hour and 45-minute offsets, a 30-minute daylight
# shift, negative daylight time (Dublin), and none. Left out: zones whose rules tzdata
# writes year by year instead of by a rule (Casablanca, Gaza: Ramadan), where the
# footer does not govern these years.
ZONES = ("Europe/London", "Europe/Dublin", "Europe/Berlin", "America/New_York",
         "America/Santiago", "America/St_Johns", "America/Sao_Paulo", "Australia/Sydney",
         "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "Asia/Hong_Kong",
         "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tehran", "UTC")
YEARS = range(2025, 2031)


def footer(name):
    """The POSIX rule tzdata writes at the end of a zone's TZif file (RFC 8536 3.3)."""
    for base in zoneinfo.TZPATH:
        try:
            with open("%s/%s" % (base, name), "rb") as f:
                return f.read().rstrip(b"\n").rsplit(b"\n", 1)[1].decode()
        except OSError:
            continue
    pytest.skip("no tzdata file for %s" % name)


def zone_offset(zone, t):
    return int(datetime.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


@pytest.mark.parametrize("name", ZONES)
def test_every_day_and_every_transition_agree_with_zoneinfo(name):
    rule = TzRule(footer(name))
    zone = zoneinfo.ZoneInfo(name)
    first = days_from_civil(YEARS[0], 1, 1)
    last = days_from_civil(YEARS[-1] + 1, 1, 1)
    previous = None
    for day in range(first, last):
        for hour in range(0, 24, 3):
            t = day * DAY_S + hour * 3600
            assert rule.offset(t) == zone_offset(zone, t), (name, t)
        noon = day * DAY_S + 43200
        offset = rule.offset(noon)
        if previous is not None and offset != previous:  # a change in the last day
            for t in range(noon - DAY_S, noon, 60):
                assert rule.offset(t) == zone_offset(zone, t), (name, t)
        previous = offset


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(ZONES), day=st.integers(days_from_civil(2025, 1, 1),
                                                    days_from_civil(2030, 12, 31)),
       minute=st.integers(0, 1439))
def test_local_wall_times_map_back_to_the_utc_zoneinfo_gives(name, day, minute):
    rule = TzRule(footer(name))
    zone = zoneinfo.ZoneInfo(name)
    y, m, d = datetime.date.fromordinal(day + 719163).timetuple()[:3]
    local = datetime.datetime(y, m, d, minute // 60, minute % 60, tzinfo=zone)
    if local != local.astimezone(datetime.timezone.utc).astimezone(zone):
        return  # a wall time in a spring-forward gap: zoneinfo has no answer to match
    want = int(local.astimezone(datetime.timezone.utc).timestamp())
    assert rule.to_utc(day * DAY_S + minute * 60) == want


def test_opening_hours_follow_zoneinfo_through_daylight_changes():
    """A weekday 09:00-17:00 calendar opens at 09:00 local on every day zoneinfo says."""
    for name in ("Europe/London", "Australia/Sydney", "America/New_York"):
        rule = TzRule(footer(name))
        zone = zoneinfo.ZoneInfo(name)
        weekly = {}
        for wd in ("mon", "tue", "wed", "thu", "fri"):
            weekly[wd] = ["09:00-17:00"]
        calendar = Calendar(rule, {"weekly": weekly})
        t = days_from_civil(2026, 1, 1) * DAY_S * 1000
        if calendar.is_open(t):  # already open somewhere east: from its closing on
            t = calendar.span(t)[1]
        for _ in range(260 * 2):
            opens = calendar.next_open(t)
            local = datetime.datetime.fromtimestamp(opens // 1000, zone)
            assert (local.hour, local.minute, local.weekday() < 5) == (9, 0, True), (name, local)
            closes = calendar.span(opens)[1]
            assert datetime.datetime.fromtimestamp(closes // 1000, zone).hour == 17
            t = closes
