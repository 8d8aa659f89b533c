"""The wrap-up record an agent files when closing a conversation: a disposition code
from the configuration, a summary, and which of them each queue requires.

Configuration: "dispositions" is a list of codes, each with optional sub-codes (two
levels), and a label per language for the console:

    [{"code": "info", "label": {"en": "Information", "zh": "咨询"}},
     {"code": "complaint", "sub": [{"code": "fees"}, {"code": "service"}]}]

A code with sub-codes is given with one of them, "complaint/fees". A queue's
"wrapup_required" lists what closing it needs: "disposition", "summary" or both.
"""

from branchline.core.config_error import ConfigError
from branchline.core.language import check_text
from branchline.text import is_blank

FIELDS = ("disposition", "summary")
DISPOSITION_KEYS = ("code", "label", "sub")
MAX_CODES = 64
MAX_SUMMARY = 1000  # characters: a record, not a transcript


def _code(value, where):
    if not isinstance(value, str) or not value or "/" in value or is_blank(value):
        raise ConfigError("%s: must be a non-empty text without '/'" % where)
    return value


class Dispositions:
    def __init__(self, doc, queues, languages):
        if not isinstance(doc, list) or len(doc) > MAX_CODES:
            raise ConfigError("dispositions: must be a list of at most %d codes" % MAX_CODES)
        self.codes = []  # every code a close may give, in configured order
        self.labels = {}
        for i, d in enumerate(doc):
            self._entry(d, "dispositions[%d]" % i, "", languages)
        self.required = {}
        for i, q in enumerate(queues):
            fields = q.get("wrapup_required", [])
            where = "queues[%d].wrapup_required" % i
            if not isinstance(fields, list) or any(f not in FIELDS for f in fields):
                raise ConfigError("%s: must be a list of %s" % (where, ", ".join(FIELDS)))
            if "disposition" in fields and not self.codes:
                raise ConfigError("%s: requires a disposition, but no dispositions are "
                                  "configured" % where)
            self.required[q["name"]] = fields

    def _entry(self, d, where, parent, languages):
        if not isinstance(d, dict):
            raise ConfigError("%s: must be an object with a code" % where)
        for key in sorted(d):
            if key not in DISPOSITION_KEYS:
                raise ConfigError("%s.%s: unknown key" % (where, key))
        code = parent + _code(d.get("code"), where + ".code")
        if code in self.labels:
            raise ConfigError("%s.code: %r is used twice" % (where, code))
        label = d.get("label", code)
        check_text(label, languages, where + ".label")
        self.labels[code] = label
        sub = d.get("sub")
        if sub is None:
            self.codes.append(code)
            return
        if parent:
            raise ConfigError("%s.sub: dispositions have two levels at most" % where)
        if not isinstance(sub, list) or not sub:
            raise ConfigError("%s.sub: must be a non-empty list of codes" % where)
        for j, s in enumerate(sub):
            self._entry(s, "%s.sub[%d]" % (where, j), code + "/", languages)

    def refusal(self, queue, disposition, summary):
        """Why a close of a conversation of `queue` with this record cannot be filed,
        or None when it can."""
        if disposition is None and summary is None and not self.required.get(queue):
            return None  # the commonest close: nothing given, nothing required
        if disposition is not None and disposition not in self.codes:
            return "unknown disposition %r (choose one of %s)" % (
                disposition, ", ".join(self.codes) or "none: none are configured")
        if summary is not None and len(summary) > MAX_SUMMARY:
            return "summary too long: %d characters, at most %d" % (len(summary), MAX_SUMMARY)
        for field in self.required.get(queue, ()):
            value = disposition if field == "disposition" else summary
            if value is None or is_blank(value):
                return "queue %s requires a %s to close" % (queue, field)
        return None
