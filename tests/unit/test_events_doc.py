"""docs/events.md lists every event kind with exactly the fields core/events.py checks."""

import os

from branchline.core import events

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "events.md")


def _type(ok):
    if isinstance(ok, events._OneOf):
        return " \\| ".join("`%s`" % v for v in ok.values)
    return {events._str: "string", events._text: "non-empty string", events._int: "integer",
            events._int_or_none: "integer or null", events._bool: "boolean",
            events._ints: "list of integers", events._texts: "list of non-empty strings",
            events._concat: "[ref, total, seq]"}[ok]


def table(kind):
    """The markdown table docs/events.md has for `kind`."""
    lines = ["### `%s`" % kind, ""]
    if not events.KINDS[kind]:
        return "\n".join(lines + ["No fields besides `k` and `t`."])
    lines += ["| field | type | | meaning |", "|---|---|---|---|"]
    for name, ok, required, what in events.KINDS[kind]:
        lines.append("| `%s` | %s | %s | %s |" % (name, _type(ok),
                                                  "required" if required else "optional", what))
    return "\n".join(lines)


def test_every_kind_is_documented_as_checked():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    for kind in sorted(events.KINDS):
        assert table(kind) in doc, "docs/events.md is out of date for %s:\n%s" % (kind, table(kind))
    assert "schema %d" % events.SCHEMA in doc
