"""POSIX TZ rules and civil dates in integer arithmetic: the branch's local time, the
same on every runtime (tests/unit/test_tz_zoneinfo.py checks them against zoneinfo)."""

from check import raises

from branchline.core.tz import TzError, TzRule, civil_from_days, days_from_civil, weekday

H = 3600


def utc(y, m, d, hh=0, mm=0):
    return days_from_civil(y, m, d) * 86400 + hh * H + mm * 60


def test_civil_dates_round_trip_across_centuries_and_leap_days():
    assert days_from_civil(1970, 1, 1) == 0
    assert days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2  # 2000 leaps
    assert days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28) == 1  # 2100 does not
    for z in range(-800000, 800000, 997):
        y, m, d = civil_from_days(z)
        assert days_from_civil(y, m, d) == z
    assert weekday(days_from_civil(2026, 12, 3)) == 3  # a Thursday
    assert weekday(days_from_civil(1969, 12, 29)) == 0  # a Monday, before the epoch


def test_london_changes_on_the_last_sundays_at_one_utc():
    r = TzRule("GMT0BST,M3.5.0/1,M10.5.0")
    assert (r.std_s, r.dst_s) == (0, H)
    start, end = utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)
    assert [r.offset(start - 1), r.offset(start), r.offset(end - 1), r.offset(end)] == [
        0, H, H, 0]
    # Local 01:30 on the spring Sunday never happens: it opens when the clocks jump.
    assert r.to_utc(utc(2026, 3, 29, 1, 30)) == start
    # Local 01:30 on the autumn Sunday happens twice: the first.
    assert r.to_utc(utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 0, 30)


def test_southern_hemisphere_daylight_spans_the_new_year():
    r = TzRule("AEST-10AEDT,M10.1.0,M4.1.0/3")
    assert r.offset(utc(2026, 1, 15)) == 11 * H
    assert r.offset(utc(2026, 6, 15)) == 10 * H
    assert r.offset(utc(2026, 12, 15)) == 11 * H


def test_fixed_offsets_quoted_names_julian_days_and_long_transition_times():
    assert TzRule("HKT-8").offset(utc(2026, 7, 1)) == 8 * H
    assert TzRule("<+0545>-5:45").offset(0) == 5 * H + 45 * 60
    assert TzRule("<-03>3").offset(0) == -3 * H
    r = TzRule("EST5EDT,J60/2,J300/2")  # March 1 and October 27, leap year or not
    assert r.offset(utc(2028, 3, 1, 8)) == -4 * H
    assert r.offset(utc(2028, 2, 29, 12)) == -5 * H
    # 50 h after the fourth Thursday began (2030-03-28): 03-30 02:00 local, 00:00 UTC.
    gaza = TzRule("EET-2EEST,M3.4.4/50,M10.4.4/50")
    assert gaza.offset(utc(2030, 3, 29, 23, 59)) == 2 * H
    assert gaza.offset(utc(2030, 3, 30, 0, 0)) == 3 * H


def test_unreadable_rules_say_where():
    for text, where in (("", "POSIX TZ"), ("UT0", "3 or more"), ("GMT0BST", "its rules"),
                        ("GMT0BST,M13.5.0,M10.5.0", "month"),
                        ("CET-1CEST,M3.5.0,M10.5.0/3x", "unexpected"),
                        ("GMT0BST,M3.5.0/200,M10.5.0", "hours must be")):
        with raises(TzError, where):
            TzRule(text)
