"""The service configuration around conversations, read once: the branch's languages
and its own messages in each, opening hours per queue, the self-service menu, canned
replies and the wrap-up record. config.validate builds one to check a configuration
(every error names its key path); the branch builds one to use.
"""

from branchline.core import templates
from branchline.core.config_error import ConfigError
from branchline.core.hours import Calendar, describe_ranges, hh_mm
from branchline.core.language import check_languages, detect
from branchline.core.menu import Menu, normalise
from branchline.core.tz import TzError, TzRule, weekday
from branchline.core.wrapup import Dispositions

# The branch's own messages: the configuration key, the placeholders each may use.
MESSAGES = (
    ("callback_ack", ()),
    ("cancel_ack", ()),
    ("max_wait_message", ()),
    ("after_hours_message", templates.AFTER_HOURS),
    ("survey_message", ()),
    ("survey_thanks", ()),
    ("position_message", templates.POSITION),
)
WEEKDAY_NAMES = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
TODAY = {"en": "today", "zh": "今天"}
CLOSED_TODAY = {"en": "closed today", "zh": "今天休息"}


class Service:
    def __init__(self, cfg):
        check_languages(cfg["languages"])
        self.languages = cfg["languages"]
        try:
            rule = TzRule(cfg["timezone"])
        except TzError as e:
            raise ConfigError("timezone: %s" % e)
        self.tz = rule  # the branch's clock, for what the console shows
        self.messages = {}
        for key, allowed in MESSAGES:
            self.messages[key] = templates.compile_text(cfg[key], self.languages, allowed, key)
        branch = Calendar(rule, cfg["hours"], "hours") if "hours" in cfg else None
        self.calendars = {}  # queue name -> Calendar, or None: always open
        for i, q in enumerate(cfg["queues"]):
            own = q.get("hours")
            self.calendars[q["name"]] = (
                Calendar(rule, own, "queues[%d].hours" % i) if own is not None else branch)
        names = [q["name"] for q in cfg["queues"]]
        self.menu = Menu(cfg["menu"], names, self.languages) if "menu" in cfg else None
        self.templates = templates.Templates(cfg["templates"], names, self.languages)
        self.dispositions = Dispositions(cfg["dispositions"], cfg["queues"], self.languages)
        words = cfg["callback_keywords"]
        if not isinstance(words, list) or not all(isinstance(w, str) and normalise(w)
                                                  for w in words):
            raise ConfigError("callback_keywords: must be a list of non-empty texts")
        self._callback_words = [normalise(w) for w in words]

    def language_of(self, text):
        return detect(text, self.languages)

    def is_callback_request(self, text):
        return normalise(text) in self._callback_words

    def say(self, key, lang, values=None):
        """The branch's own message `key` in `lang`, placeholders filled."""
        return templates.render(self.messages[key][lang], values or {})

    def opens_at(self, calendar, now, lang):
        """When `calendar` next opens, as the customer reads it: "09:00" today, else
        the weekday and time in the branch's local time ("" if it never opens)."""
        at = calendar.next_open(now)
        if at is None:
            return ""
        day, minute = calendar.local_day_and_minute(at)
        today = calendar.local_day_and_minute(now)[0]
        if day == today:
            return "%s %s" % (TODAY[lang], hh_mm(minute))
        return "%s %s" % (WEEKDAY_NAMES[lang][weekday(day)], hh_mm(minute))

    def hours_today(self, queue, now, lang):
        """{branch_hours}: the queue's opening hours today, e.g. "09:00-12:30,
        13:30-17:00"."""
        calendar = self.calendars[queue]
        if calendar is None:
            return "00:00-24:00"
        day = calendar.local_day_and_minute(now)[0]
        return describe_ranges(calendar.ranges_on(day)) or CLOSED_TODAY[lang]
