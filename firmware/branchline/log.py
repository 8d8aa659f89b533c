"""One structured line per event: `ts=... level=... event=... key=value ...` on stdout,
the same on every runtime.

Phone numbers go through redact.mask_number unless debug logging was asked for.
"""

import sys
import time

from branchline.core.redact import mask_number
from branchline.core.tz import civil_from_days

NUMBER_KEYS = ("from", "to", "customer", "number")


def _quote(value):
    text = str(value)
    if not text or any(c in text for c in ' ="\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def _wall_ms():
    return time.time_ns() // 1000000


def stamp(ms):
    """`ms` since 1970 as UTC, ISO 8601 to the millisecond."""
    days, ms = divmod(ms, 86400000)
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        y, m, d, ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


class Log:
    def __init__(self, stream=None, debug=False, now_ms=_wall_ms):
        self.stream = stream or sys.stdout
        self.debug_enabled = debug
        self.now_ms = now_ms

    def _emit(self, level, event, fields):
        stamp_text = stamp(self.now_ms())
        parts = ["ts=" + stamp_text, "level=" + level, "event=" + event]
        for key, value in fields.items():
            if key in NUMBER_KEYS and not self.debug_enabled:
                value = mask_number(value)
            parts.append("%s=%s" % (key, _quote(value)))
        try:
            self.stream.write(" ".join(parts) + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            # Whoever read our output went away (a closed pipe): the appliance must keep
            # working, and a log line is not worth a crash or a busy loop.
            pass

    def info(self, event, **fields):
        self._emit("info", event, fields)

    def warn(self, event, **fields):
        self._emit("warn", event, fields)

    def error(self, event, **fields):
        self._emit("error", event, fields)

    def debug(self, event, **fields):
        if self.debug_enabled:
            self._emit("debug", event, fields)


def parse_line(line):
    """The inverse of Log._emit, for tools that follow a gateway's output."""
    fields = {}
    i = 0
    n = len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        eq = line.find("=", i)
        if eq < 0:
            break
        key = line[i:eq]
        i = eq + 1
        if i < n and line[i] == '"':
            i += 1
            buf = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n:
                    i += 1
                    buf.append("\n" if line[i] == "n" else line[i])
                else:
                    buf.append(line[i])
                i += 1
            i += 1
            fields[key] = "".join(buf)
        else:
            end = line.find(" ", i)
            end = n if end < 0 else end
            fields[key] = line[i:end]
            i = end
    return fields
