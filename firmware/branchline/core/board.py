"""The supervisor's wallboard: per queue and per desk, what is happening now and the
figures of the interval and the day (from the metrics, never recomputed here), the
day's intervals for the chart, and the alerts. One pass over the open conversations.
"""


# What the wallboard shows of each figure set (metrics.figures has many more).
SHOWN = ("offered", "answered", "abandoned", "service_level_pm", "asa_ms",
         "first_response_ms", "handle_ms", "longest_wait_ms", "missed_offers")


def _shown(figures):
    out = {}
    for name in SHOWN:
        out[name] = figures[name]
    return out


def _desk_rows(branch, now):
    rows = []
    for desk in branch.desks:
        row = branch.desk_status(desk)
        since = row.pop("since")
        row["in_state_ms"] = now - since if since is not None else None
        _, day = branch.metrics.now_figures("d:%d" % desk)
        row["missed_offers"] = day["missed_offers"]
        row["handled"] = day["handled"]
        rows.append(row)
    return rows


def board(branch, now):
    """The wallboard's document at `now` (ms)."""
    cfg = branch.config
    target = cfg["service_level_target_pm"]
    alert_ms = cfg["wait_alert_s"] * 1000
    waiting = {}
    longest = {}
    late = []
    for conv in branch.conversations.values():
        if conv.state != "queued":
            continue
        waited = now - conv.at(conv.queued)
        waiting[conv.queue] = waiting.get(conv.queue, 0) + 1
        if waited > longest.get(conv.queue, -1):
            longest[conv.queue] = waited
        if waited > alert_ms:
            late.append({"conv": conv.id, "queue": conv.queue, "waited_ms": waited})
    queues = []
    alerts = []
    for name in branch.queue_names:
        interval, day = branch.metrics.now_figures("q:" + name)
        row = {"name": name, "waiting": waiting.get(name, 0),
               "longest_waiting_ms": longest.get(name), "interval": _shown(interval),
               "day": _shown(day)}
        queues.append(row)
        sl = interval["service_level_pm"]
        if sl is not None and sl < target:
            alerts.append({"kind": "service_level", "queue": name, "service_level_pm": sl,
                           "target_pm": target})
    late.sort(key=lambda a: -a["waited_ms"])
    for item in late:
        item["kind"] = "long_wait"
        alerts.append(item)
    interval, day = branch.metrics.now_figures("")
    return {
        "now": now, "utc_offset_s": branch.service.tz.offset(now // 1000),
        "service_level_s": cfg["service_level_s"], "target_pm": target,
        "wait_alert_s": cfg["wait_alert_s"], "queues": queues,
        "desks": _desk_rows(branch, now), "branch": {"interval": _shown(interval),
                                                    "day": _shown(day)},
        "series": branch.metrics.day_series(), "alerts": alerts,
    }
