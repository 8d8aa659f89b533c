"""Opening hours: spans, next opening, time inside hours, holidays and special days,
and configuration errors that name the key path."""

from check import raises

from branchline.core.config_error import ConfigError
from branchline.core.hours import Calendar
from branchline.core.tz import TzRule, days_from_civil

HK = TzRule("HKT-8")
WEEK = {"weekly": {"mon": ["09:00-12:30", "13:30-17:00"], "tue": ["09:00-17:00"],
                   "wed": ["09:00-17:00"], "thu": ["09:00-17:00"], "fri": ["09:00-17:00"],
                   "sat": ["09:00-12:00"]},
        "holidays": ["2026-12-25"], "special_days": {"2026-12-24": ["09:00-11:00"]}}


def at(y, m, d, hh, mm=0):
    """ms of a Hong Kong wall time."""
    return ((days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) - 8 * 3600) * 1000


def test_open_and_closed_spans_through_a_week_with_a_lunch_break():
    c = Calendar(HK, WEEK)
    # 2026-12-07 is a Monday.
    assert c.span(at(2026, 12, 7, 8, 59)) == (False, at(2026, 12, 7, 9))
    assert c.span(at(2026, 12, 7, 10)) == (True, at(2026, 12, 7, 12, 30))
    assert c.next_open(at(2026, 12, 7, 12, 45)) == at(2026, 12, 7, 13, 30)
    # Saturday afternoon: Sunday is closed, Monday opens.
    assert c.next_open(at(2026, 12, 12, 12, 0)) == at(2026, 12, 14, 9)
    assert c.is_open(at(2026, 12, 12, 11, 59)) and not c.is_open(at(2026, 12, 13, 10))


def test_holidays_close_and_special_days_replace_their_weekday():
    c = Calendar(HK, WEEK)
    assert c.span(at(2026, 12, 24, 10)) == (True, at(2026, 12, 24, 11))  # a Thursday
    assert c.next_open(at(2026, 12, 24, 11)) == at(2026, 12, 26, 9)  # Friday 25th off


def test_time_inside_hours_skips_nights_and_lunch():
    c = Calendar(HK, WEEK)
    # Monday 12:00 to Tuesday 09:30: 30 min before lunch, 3.5 h after, 30 min Tuesday.
    assert c.open_ms(at(2026, 12, 7, 12), at(2026, 12, 8, 9, 30)) == (30 + 210 + 30) * 60000
    assert c.open_ms(at(2026, 12, 13, 1), at(2026, 12, 13, 23)) == 0  # a Sunday
    always = Calendar(HK, {"weekly": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"]}})
    # Two whole days are one span: Monday 00:00 to Wednesday 00:00.
    assert always.span(at(2026, 12, 7, 5)) == (True, at(2026, 12, 9, 0))


def test_a_calendar_that_never_opens_says_so():
    c = Calendar(HK, {})
    assert c.span(at(2026, 12, 7, 10)) == (False, None)
    assert c.next_open(at(2026, 12, 7, 10)) is None
    assert c.open_ms(at(2026, 12, 7, 10), at(2026, 12, 8, 10)) == 0


def test_errors_name_the_key_path():
    cases = (
        ({"weekly": {"mon": ["9-5"]}}, "hours.weekly.mon[0]: expected HH:MM-HH:MM"),
        ({"weekly": {"mon": ["12:00-09:00"]}}, "hours.weekly.mon[0]"),
        ({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "hours.weekly.mon[1]: "),
        ({"weekly": {"monday": []}}, "hours.weekly.monday: not a weekday"),
        ({"holidays": ["2026-02-30"]}, "hours.holidays[0]: expected a date"),
        ({"special_days": {"2026-12-24": ["25:00-26:00"]}}, "hours.special_days.2026-12-24[0]"),
        ({"holidays": ["2026-12-24"], "special_days": {"2026-12-24": []}},
         "is also a holiday"),
        ({"weekdays": {}}, "hours.weekdays: unknown key"),
    )
    for doc, message in cases:
        with raises(ConfigError, message):
            Calendar(HK, doc)
