"""The wallboard's chart of the day, drawn here as SVG (no script, no library): per
interval, the volume offered as bars and the service level as a line, against the
target. Integer coordinates only, so every runtime draws the same bytes."""

WIDTH = 960
HEIGHT = 240
LEFT = 40
BOTTOM = 24
TOP = 12
DAY_MS = 86400000
LABELS = {"en": ("offered", "service level", "target"),
          "zh": ("来访量", "服务水平", "目标")}


def _x(ms_into_day):
    return LEFT + (WIDTH - LEFT - 10) * ms_into_day // DAY_MS


def svg(doc, lang="en"):
    """The chart of a board document (core/board.py)."""
    offered, level, target = LABELS.get(lang, LABELS["en"])
    plot_h = HEIGHT - BOTTOM - TOP
    series = doc["series"]
    offset_ms = doc["utc_offset_s"] * 1000
    day_start = doc["now"] - (doc["now"] + offset_ms) % DAY_MS  # the local day
    top = max([1] + [i["offered"] for i in series])
    out = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" '
           'aria-label="%s, %s">' % (WIDTH, HEIGHT, offered, level)]
    out.append('<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>' % (WIDTH, HEIGHT))
    for hour in range(0, 25, 3):
        x = _x(hour * 3600000)
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>'
                   % (x, TOP, x, HEIGHT - BOTTOM))
        out.append('<text x="%d" y="%d" font-size="11" text-anchor="middle" fill="#333">'
                   '%02d:00</text>' % (x, HEIGHT - 8, hour % 24))
    bar_w = max(2, _x(900000) - _x(0) - 2)
    points = []
    for item in series:
        into = item["start"] - day_start
        if not 0 <= into < DAY_MS:
            continue
        x = _x(into)
        h = plot_h * item["offered"] // top
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#9cc3e6">'
                   '<title>%d</title></rect>'
                   % (x, TOP + plot_h - h, bar_w, h, item["offered"]))
        if item["service_level_pm"] is not None:
            points.append("%d,%d" % (x + bar_w // 2,
                                     TOP + plot_h - plot_h * item["service_level_pm"] // 1000))
    y = TOP + plot_h - plot_h * doc["target_pm"] // 1000
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#c0392b" '
               'stroke-dasharray="6 4"><title>%s %d.%d%%</title></line>'
               % (LEFT, y, WIDTH - 10, y, target, doc["target_pm"] // 10, doc["target_pm"] % 10))
    if points:
        out.append('<polyline points="%s" fill="none" stroke="#1f5f99" stroke-width="2"/>'
                   % " ".join(points))
    out.append('<text x="4" y="%d" font-size="11" fill="#333">%d</text>' % (TOP + 10, top))
    out.append("</svg>")
    return "".join(out)
