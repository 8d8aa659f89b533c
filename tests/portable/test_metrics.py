"""Contact-center figures: definitions, integer rounding, intervals, days, desks' time,
and snapshots. Every expected number is worked out by hand in the comments."""

from branchline.core import jsonfmt
from branchline.core.metrics import DAY_MS, Metrics, mean, ratio_pm

MIN = 60000
T0 = 1796169600000  # 2026-12-02T00:00:00Z: a day (and interval) boundary


def ended(m, now):
    """The `interval` bodies of the intervals that ended by `now`."""
    return [make() for make in m.advance(now)]


def test_rounding_is_half_up_in_integers():
    assert ratio_pm(2, 3) == 667  # 666.67
    assert ratio_pm(1, 8) == 125
    assert ratio_pm(1, 2000) == 1  # 0.5 per-mille rounds up
    assert ratio_pm(0, 5) == 0 and ratio_pm(3, 0) is None
    assert mean(10, 4) == 3  # 2.5 -> 3
    assert mean(9, 4) == 2  # 2.25 -> 2
    assert mean(0, 0) is None


def test_service_level_counts_long_abandons_and_leaves_short_ones_out():
    m = Metrics(service_level_s=40, short_abandon_s=10)
    m.advance(T0)
    for wait_s in (5, 30, 50):  # two within 40 s
        m.on_offered("general")
        m.on_answered("general", 1, wait_s * 1000, wait_s * 1000)
    m.on_offered("general")
    m.on_abandoned("general", 4000)  # short: counted apart
    m.on_offered("general")
    m.on_abandoned("general", 20000)  # within SL
    m.on_offered("general")
    m.on_abandoned("general", 90000)  # after SL
    f = m.summary()
    assert (f["offered"], f["answered"], f["abandoned"], f["short_abandoned"]) == (6, 3, 2, 1)
    # SL = answered within 40 s / (answered + abandoned) = 2 / 5
    assert f["service_level_pm"] == 400
    # SL2 = (answered within + abandoned within) / (answered + abandoned) = 3 / 5
    assert f["service_level2_pm"] == 600
    # ASA = (5 + 30 + 50) / 3 s = 28.333 s
    assert f["asa_ms"] == 28333
    assert f["longest_wait_ms"] == 90000  # an abandon can be the longest wait


def test_per_queue_and_per_desk_breakdowns():
    m = Metrics(service_level_s=40)
    m.advance(T0)
    m.on_offered("general")
    m.on_offered("loans")
    m.on_answered("general", 1, 10000, 10000)
    m.on_answered("loans", 2, 60000, 60000)
    m.on_first_response("loans", 2, 70000)
    m.on_handled("loans", 2, 300000, callback=True)
    report = m.report(T0 + MIN)
    day = report["day"]
    assert day["all"]["answered"] == 2 and day["all"]["service_level_pm"] == 500
    assert day["queues"]["general"]["service_level_pm"] == 1000
    assert day["queues"]["loans"]["asa_ms"] == 60000
    assert day["desks"]["2"]["first_response_ms"] == 70000
    assert day["desks"]["2"]["handle_ms"] == 300000
    assert day["desks"]["2"]["callbacks_completed"] == 1
    assert sorted(day["desks"]) == ["1", "2"]  # a desk with nothing is not listed


def test_intervals_end_on_their_boundary_and_report_once():
    m = Metrics(service_level_s=40, interval_s=900)
    m.advance(T0 + 5 * MIN)
    m.on_offered("general")
    assert m.next_boundary() == T0 + 15 * MIN
    assert m.advance(T0 + 14 * MIN) == []
    (done,) = ended(m, T0 + 16 * MIN)
    assert (done["interval"]["start"], done["interval"]["end"]) == (T0, T0 + 15 * MIN)
    assert done["interval"]["all"]["offered"] == 1 and done["day"]["all"]["offered"] == 1
    m.on_offered("general")
    # A quiet hour: its empty intervals are not reported.
    (done,) = ended(m, T0 + 90 * MIN)
    assert done["interval"]["start"] == T0 + 15 * MIN and done["day"]["all"]["offered"] == 2
    assert m.next_boundary() == T0 + 90 * MIN + 15 * MIN
    assert m.report(T0 + 91 * MIN)["last_interval"]["start"] == T0 + 75 * MIN


def test_a_day_ends_at_midnight_and_the_totals_run_on():
    m = Metrics(service_level_s=40)
    m.advance(T0 + DAY_MS - MIN)
    m.on_offered("general")
    done = ended(m, T0 + DAY_MS + MIN)
    assert done[-1]["day_complete"] is True
    assert done[-1]["day"]["start"] == T0 and done[-1]["day"]["all"]["offered"] == 1
    m.on_offered("general")
    report = m.report(T0 + DAY_MS + 2 * MIN)
    assert report["day"]["start"] == T0 + DAY_MS and report["day"]["all"]["offered"] == 1
    assert m.summary()["offered"] == 2


def test_desk_time_is_split_at_interval_boundaries():
    m = Metrics(service_level_s=40, interval_s=900)

    def at(minutes, **state):  # as the core does: time first, then what changed
        done = ended(m, T0 + minutes * MIN)
        m.desk_state(1, T0 + minutes * MIN, **state)
        return done

    at(10, signed_in=True, held=0, wrapup=False)
    at(12, signed_in=True, held=2, wrapup=False)
    (done,) = at(18, signed_in=True, held=0, wrapup=True)  # 15 min passed meanwhile
    first = done["interval"]["desks"]["1"]
    # available 10..15 = 5 min, busy 12..15 = 3 min: occupancy 600 per-mille; holding 2
    assert first["occupancy_pm"] == 600 and first["concurrency_milli"] == 2000
    at(20, signed_in=False, held=0, wrapup=False)
    (done,) = ended(m, T0 + 31 * MIN)
    second = done["interval"]["desks"]["1"]
    # 15..18 holding 2, 18..20 wrap-up: available 5 min, busy 5 min
    assert second["occupancy_pm"] == 1000 and second["concurrency_milli"] == 2000
    day = m.report(T0 + 31 * MIN)["day"]["desks"]["1"]
    # the day: available 10 min, busy 8 min; 6 min holding 2
    assert (day["occupancy_pm"], day["concurrency_milli"]) == (800, 2000)


def test_a_snapshot_restores_the_same_figures_and_encodes_the_same_way():
    m = Metrics(service_level_s=40, short_abandon_s=5)
    m.advance(T0)
    m.on_offered("general")
    m.on_answered("general", 1, 12000, 12000)
    m.desk_state(1, T0 + MIN, signed_in=True, held=1, wrapup=False)
    dumped = jsonfmt.dumps(m.dump())
    import json

    other = Metrics(service_level_s=40, short_abandon_s=5)
    other.load(json.loads(dumped))
    assert jsonfmt.dumps(other.dump()) == dumped
    for x in (m, other):
        x.on_response("general", 1, 3000)
        x.advance(T0 + 20 * MIN)
    assert jsonfmt.dumps(other.report(T0 + 21 * MIN)) == jsonfmt.dumps(m.report(T0 + 21 * MIN))
