"""The device configuration (JSON produced by provisioning), validated with errors that
name the offending key, e.g. `desks[1].cap: must be 1..3, got 5`.

Every object has a fixed set of keys: anything else is a typo until proven otherwise,
and is refused with the closest known key (`offer_timout_s: unknown key (did you mean
offer_timeout_s?)`). Unknown keys are looked for before missing ones, so a misspelt
required key is named as the typo it is rather than only as missing.
"""

from branchline import passwords
from branchline.core.config_error import ConfigError
from branchline.core.routing import STRATEGIES
from branchline.core.service import Service
from branchline.router.codes import MAX_AGENTS as MAX_DESKS, MAX_QUEUE_CAPACITY, MAX_QUEUES
from branchline.text import is_blank

DAY_S = 86400

DEFAULTS = {
    "metrics_interval_s": 60,
    "service_level_s": 40,
    "config_version": 0,
    "state_dir": "state",
    "concat_timeout_s": 600,
    "retry_backoff_s": [30, 120, 600, 1800],
    "callback_ack": {"en": "We missed your call. An agent will call you back as soon as "
                           "possible.",
                     "zh": "我们错过了您的来电，客服人员将尽快给您回电。"},
    "max_reply_parts": 6,
    "offer_timeout_s": 120,  # an offered conversation nobody takes up goes back (0: never)
    "max_missed_offers": 2,  # then the desk goes on break (0: never)
    "private_timeout_s": 300,  # a transfer to a desk overflows to its queue after this
    "vip_numbers": [],
    "vip_priority_s": 60,  # a VIP goes ahead of everyone who waited less than this
    "short_abandon_s": 10,  # a customer who gives up sooner is left out of service level
    # A waiting customer's message that is one of these, whole, cancels (text.bare: A-Z
    # case-blind, surrounding spaces and final punctuation ignored).
    "cancel_words": ["cancel", "stop waiting", "取消", "算了"],
    "cancel_ack": {"en": "Your request is cancelled. Write again soon to keep your place in "
                         "the queue.",
                   "zh": "您的请求已取消。如尽快再次来信，可保留您的排队位置。"},
    "rejoin_s": 300,  # writing again this soon after cancelling gives the old place back
    "max_wait_message": {"en": "Sorry, all our agents are still busy. Reply to this message "
                               "and an agent will call you back.",
                         "zh": "抱歉，客服人员仍然繁忙。回复此短信，客服人员将给您回电。"},
    "report_interval_s": 900,  # figures per interval of this length (it divides a day)
    "queue_capacity": 256,  # conversations waiting per queue; more wait their turn outside
    "remembered_messages": 512,  # fingerprints of messages taken (8 bytes each)
    "remembered_customers": 1024,  # customers' last queue, for missed calls (21 bytes each)
    "remembered_sends": 256,  # SMS parts sent, for their status reports (17 bytes each)
    "snapshot_every_events": 10000,  # journal records between two snapshots of the state
    "snapshot_every_s": 3600,  # ... or this long, whichever comes first
    "disk_ceiling_mb": 256,  # the state folder's ceiling: the archive's oldest go first
    "retention_days": 90,  # closed conversations' journal kept in the archive this long
    # The service around conversations (core/service.py checks these).
    "languages": ["en"],  # the first is what a text in no listed script is taken to be
    "timezone": "UTC0",  # a POSIX TZ rule: the last line of /usr/share/zoneinfo/<zone>
    "after_hours_message": {"en": "We are closed now and open again {opens_at}. Reply CALL "
                                  "to be called back.",
                            "zh": "我们现在休息，{opens_at}开门。回复 CALL 可预约回电。"},
    "callback_keywords": ["call", "回电"],
    "templates": [],
    "dispositions": [],
    "reopen_window_s": 600,  # a customer writing again this soon after a close reopens it
    "remembered_closes": 256,  # recent closes, for reopening (24 bytes each)
    "remembered_preferences": 256,  # customers' VIP flag and language set (6 bytes each)
    "survey_message": {"en": "How did we do? Reply 1 (poor) to 5 (excellent).",
                       "zh": "您对本次服务满意吗？请回复1（很差）至5（很好）。"},
    "survey_thanks": {"en": "Thank you for your feedback.", "zh": "感谢您的反馈。"},
    "survey_delay_s": 300,  # after the close
    "survey_window_s": 86400,  # a reply 1-5 this soon after the survey answers it
    "survey_cooldown_days": 30,  # no customer is surveyed twice in this many days
    "remembered_surveys": 512,  # customers surveyed, for cooldown and answers (45 bytes each)
    "position_message": {"en": "You are number {position} in line, expected wait about "
                               "{wait_minutes} minutes.",
                         "zh": "您排在第{position}位，预计等候约{wait_minutes}分钟。"},
    "position_update_s": 300,  # at most one position SMS per conversation this often
    "max_position_sms": 2,  # per conversation (each SMS costs money)
    "callback_retry_s": 900,  # an unreached callback is tried again after this
    "callback_max_attempts": 3,  # then it closes unreached
    "service_level_target_pm": 800,  # the wallboard's target: 80 % within service_level_s
    "wait_alert_s": 300,  # the wallboard warns of a customer waiting longer than this
}
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

# The keys each object may have (the defaults above are the top level's optional ones).
TOP_KEYS = tuple(DEFAULTS) + ("site", "device", "board", "queues", "desks", "modems", "panel",
                              "mqtt", "wifi", "ntp", "console", "hours", "menu")
QUEUE_KEYS = ("name", "keywords", "strategy", "backup_after_s", "overflow_queue",
              "overflow_after_s", "max_wait_s", "hours", "wrapup_required", "survey",
              "position_updates")
DESK_KEYS = ("desk", "name", "cap", "queues", "backup_queues", "wrapup_s", "wrapup_manual")
MODEM_KEYS = ("id", "port", "baud", "direct", "hangup_after_rings", "health_interval_s")
PORT_KEYS = ("port", "baud")
MQTT_KEYS = ("host", "port", "keepalive")
WIFI_KEYS = ("ssid", "password")  # an ESP32's way to head office
NTP_KEYS = ("host", "port")  # where an ESP32 sets its clock (a Pi has the OS's NTP)
CONSOLE_KEYS = ("host", "port", "users", "tls", "lockout_after", "lockout_s", "session_h",
                "remembered_reads", "remembered_logouts", "audit_kept")
CONSOLE_DEFAULTS = {
    "port": 8080,
    "users": [],
    "lockout_after": 5,  # failed logins in a row that lock the account ...
    "lockout_s": 300,  # ... for this long
    "session_h": 12,  # a login lasts a shift
    # What the console keeps in memory (docs/memory.md has the cost of each entry):
    "remembered_reads": 512,  # (user, conversation) read marks, for unread counts (57 B)
    "remembered_logouts": 64,  # logged-out cookies refused until they expire (88 B)
    "audit_kept": 100,  # newest audit records for /api/audit; the host keeps all (165 B)
}
USER_KEYS = ("user", "name", "role", "desk", "password", "must_change", "lang")
ROLES = ("agent", "supervisor", "technician")
UI_LANGUAGES = ("en", "zh")
TLS_KEYS = ("cert", "key")
MAX_USERS = 128  # each costs its hash (~120 B) and a few counters in the console


def _edit_distance(a, b):
    """Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two
    neighbours (the commonest typo: "cpa" for "cap"), i.e. optimal string alignment."""
    before = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        above, row = row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
        before = above
    return row[len(b)]


def closest(word, candidates):
    """The candidate a typo most likely meant, or None when none is close: at most a
    third of the word's letters (and at least one) differ, or else one is the start of
    the other ("baudrate" for "baud"). Ties go to the first in sorted order, so the
    suggestion is the same on every runtime."""
    best = None
    best_distance = max(1, len(word) // 3) + 1
    for candidate in sorted(candidates):
        distance = _edit_distance(word, candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    if best is None:
        for candidate in sorted(candidates):
            if min(len(word), len(candidate)) >= 3 and (
                    word.startswith(candidate) or candidate.startswith(word)):
                return candidate
    return best


def _known_keys(doc, known, where):
    for key in sorted(doc):  # sorted: the first error is the same on every runtime
        if key not in known:
            hint = closest(key, known)
            raise ConfigError("%s%s: unknown key%s" % (
                where, key, " (did you mean %s?)" % hint if hint else ""))


def _object(value, known, where):
    """`value` must be an object with only `known` keys; `where` is "section." style."""
    if not isinstance(value, dict):
        raise ConfigError("%s: must be an object" % where[:-1])
    _known_keys(value, known, where)
    return value


def _need(doc, key, kind, where):
    if key not in doc:
        raise ConfigError("%s%s: missing" % (where, key))
    value = doc[key]
    if kind is int and isinstance(value, bool):
        raise ConfigError("%s%s: must be an integer" % (where, key))
    if not isinstance(value, kind):
        raise ConfigError("%s%s: must be %s" % (where, key, _kind_name(kind)))
    return value


def _kind_name(kind):
    return {str: "a string", int: "an integer", list: "a list", dict: "an object"}.get(
        kind, "of another type"
    )


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _name(doc, key, where):
    """A name that also serves as an MQTT topic level and a file name."""
    value = _need(doc, key, str, where)
    if not value or any(c not in NAME_CHARS for c in value):
        raise ConfigError("%s%s: use letters, digits, '-', '_' or '.', got %r" % (where, key, value))
    return value


def _int_in(doc, key, lo, hi, where, default=None):
    if key not in doc and default is not None:
        return default
    value = _need(doc, key, int, where)
    if not lo <= value <= hi:
        raise ConfigError("%s%s: must be %d..%d, got %d" % (where, key, lo, hi, value))
    return value


def _host(doc, where):
    """A host name or address: text without spaces (the libraries would fail later, and
    with a traceback)."""
    host = _need(doc, "host", str, where)
    if not host or any(c in host for c in " \t/"):
        raise ConfigError("%shost: must be a host name or an address, got %r" % (where, host))


def _check_port(doc, where):
    """A serial port: its device path and baud rate."""
    _need(doc, "port", str, where)
    _int_in(doc, "baud", 300, 4000000, where, default=115200)


def _check_modems(modems):
    ids = {}
    for i, m in enumerate(modems):
        where = "modems[%d]." % i
        _object(m, MODEM_KEYS, where)
        modem_id = _name(m, "id", where)
        if modem_id in ids:
            raise ConfigError("%sid: %r is used twice" % (where, modem_id))
        ids[modem_id] = True
        _check_port(m, where)
        if not isinstance(m.get("direct", False), bool):
            raise ConfigError("%sdirect: must be true or false" % where)
        _int_in(m, "hangup_after_rings", 0, 20, where, default=2)
        _int_in(m, "health_interval_s", 1, 86400, where, default=60)


def _check_sections(doc):
    if "modems" not in doc:
        # Forgetting the modems must not pass for a branch that deliberately has none.
        raise ConfigError('modems: missing (a branch without modems says "modems": [])')
    _check_modems(_need(doc, "modems", list, ""))
    for key, known in (("panel", PORT_KEYS), ("mqtt", MQTT_KEYS), ("wifi", WIFI_KEYS),
                       ("ntp", NTP_KEYS), ("console", CONSOLE_KEYS)):
        if key in doc:
            _object(doc[key], known, key + ".")
    if "panel" in doc:
        _check_port(doc["panel"], "panel.")
    mqtt = doc.get("mqtt", {})
    if "host" in mqtt:
        _host(mqtt, "mqtt.")
    _int_in(mqtt, "port", 1, 65535, "mqtt.", default=1883)
    _int_in(mqtt, "keepalive", 5, 3600, "mqtt.", default=30)
    for key in WIFI_KEYS:
        if key in doc.get("wifi", {}):
            _need(doc["wifi"], key, str, "wifi.")
    if "host" in doc.get("ntp", {}):
        _host(doc["ntp"], "ntp.")
    _int_in(doc.get("ntp", {}), "port", 1, 65535, "ntp.", default=123)


def _check_console(console, desk_numbers):
    """-> the console section with its defaults filled in."""
    out = dict(CONSOLE_DEFAULTS)
    out.update(console)
    if "host" in console:
        _host(console, "console.")
    _int_in(out, "port", 0, 65535, "console.")
    _int_in(out, "lockout_after", 1, 100, "console.")
    _int_in(out, "lockout_s", 1, DAY_S, "console.")
    _int_in(out, "session_h", 1, 24 * 7, "console.")
    for key in ("remembered_reads", "remembered_logouts", "audit_kept"):
        _int_in(out, key, 1, 65536, "console.")
    if "tls" in console:
        tls = _object(console["tls"], TLS_KEYS, "console.tls.")
        for key in TLS_KEYS:
            if not _need(tls, key, str, "console.tls."):
                raise ConfigError("console.tls.%s: must name a PEM file" % key)
    users = _need(out, "users", list, "console.")
    if len(users) > MAX_USERS:
        raise ConfigError("console.users: at most %d, got %d" % (MAX_USERS, len(users)))
    seen = {}
    for i, u in enumerate(users):
        where = "console.users[%d]." % i
        _object(u, USER_KEYS, where)
        name = _name(u, "user", where)
        if name in seen:
            raise ConfigError("%suser: %r is listed twice" % (where, name))
        seen[name] = True
        role = _need(u, "role", str, where)
        if role not in ROLES:
            raise ConfigError("%srole: must be one of %s, got %r" % (where, ", ".join(ROLES), role))
        if role == "agent":
            desk = _need(u, "desk", int, where)
            if desk not in desk_numbers:
                raise ConfigError("%sdesk: no desk %d" % (where, desk))
        elif "desk" in u:
            raise ConfigError("%sdesk: only an agent sits at a desk" % where)
        try:
            passwords.parse(_need(u, "password", str, where))
        except passwords.HashFormatError as e:
            raise ConfigError("%spassword: %s (branchline-tools hash-password makes one)"
                              % (where, e))
        if not isinstance(u.get("must_change", False), bool):
            raise ConfigError("%smust_change: must be true or false" % where)
        if u.get("lang", "en") not in UI_LANGUAGES:
            raise ConfigError("%slang: must be one of %s" % (where, ", ".join(UI_LANGUAGES)))
        if "name" in u and not isinstance(u["name"], str):
            raise ConfigError("%sname: must be a string" % where)
    return out


def _check_queues(queues):
    names = {}
    if not 1 <= len(queues) <= MAX_QUEUES:
        raise ConfigError("queues: need 1..%d queues, got %d" % (MAX_QUEUES, len(queues)))
    for i, q in enumerate(queues):
        where = "queues[%d]." % i
        _object(q, QUEUE_KEYS, where)
        name = _need(q, "name", str, where)
        if name in names:
            raise ConfigError("%sname: %r is used twice" % (where, name))
        names[name] = i
        keywords = q.get("keywords", [])
        if not isinstance(keywords, list):
            raise ConfigError("%skeywords: must be a list of strings" % where)
        for j, kw in enumerate(keywords):
            if not isinstance(kw, str) or not kw:
                raise ConfigError("%skeywords[%d]: must be a non-empty string" % (where, j))
        strategy = q.get("strategy", "longest_idle")
        if strategy not in STRATEGIES:
            raise ConfigError("%sstrategy: must be one of %s, got %r"
                              % (where, ", ".join(sorted(STRATEGIES)), strategy))
        _int_in(q, "backup_after_s", 0, DAY_S, where, default=0)
        _int_in(q, "overflow_after_s", 0, DAY_S, where, default=0)
        _int_in(q, "max_wait_s", 0, DAY_S, where, default=0)  # 0: customers wait on
        for key in ("survey", "position_updates"):
            if not isinstance(q.get(key, False), bool):
                raise ConfigError("%s%s: must be true or false" % (where, key))
    for i, q in enumerate(queues):
        target = q.get("overflow_queue")
        if target is not None and (target not in names or target == q["name"]):
            raise ConfigError("queues[%d].overflow_queue: no other queue named %r" % (i, target))
        if (target is None) != (not q.get("overflow_after_s")):
            raise ConfigError("queues[%d]: overflow_queue and overflow_after_s go together" % i)
    return names


def _check_desks(desks, queue_names):
    if not 1 <= len(desks) <= MAX_DESKS:
        raise ConfigError("desks: need 1..%d desks, got %d" % (MAX_DESKS, len(desks)))
    seen = {}
    for i, d in enumerate(desks):
        where = "desks[%d]." % i
        _object(d, DESK_KEYS, where)
        desk = _need(d, "desk", int, where)
        if not 1 <= desk <= MAX_DESKS:
            raise ConfigError("%sdesk: must be 1..%d, got %d" % (where, MAX_DESKS, desk))
        if desk in seen:
            raise ConfigError("%sdesk: desk %d is listed twice" % (where, desk))
        seen[desk] = True
        if "name" in d and not isinstance(d["name"], str):
            raise ConfigError("%sname: must be a string" % where)
        cap = _need(d, "cap", int, where)
        if not 1 <= cap <= 3:
            raise ConfigError("%scap: must be 1..3, got %d" % (where, cap))
        served = _queue_list(d, "queues", queue_names, where, required=True)
        backup = _queue_list(d, "backup_queues", queue_names, where, required=False)
        for name in backup:
            if name in served:
                raise ConfigError("%sbackup_queues: %r is already a primary queue" % (where, name))
        _int_in(d, "wrapup_s", 0, 3600, where, default=0)
        if not isinstance(d.get("wrapup_manual", False), bool):
            raise ConfigError("%swrapup_manual: must be true or false" % where)


def _queue_list(doc, key, queue_names, where, required):
    if not required and key not in doc:
        return []
    names = _need(doc, key, list, where)
    for j, name in enumerate(names):
        if not isinstance(name, str) or name not in queue_names:
            raise ConfigError("%s%s[%d]: no queue named %r" % (where, key, j, name))
    return names


def validate(doc):
    """Check `doc` and return it with defaults filled in; raise ConfigError otherwise."""
    if not isinstance(doc, dict):
        raise ConfigError("config: must be a JSON object")
    _known_keys(doc, TOP_KEYS, "")
    _name(doc, "site", "")
    _name(doc, "device", "")
    if "board" in doc:  # boards/<board>/board.json: what its ports are (branchline.hardware)
        _name(doc, "board", "")
    queue_names = _check_queues(_need(doc, "queues", list, ""))
    _check_desks(_need(doc, "desks", list, ""), queue_names)
    _check_sections(doc)
    out = dict(DEFAULTS)
    out.update(doc)
    out["console"] = _check_console(doc.get("console", {}), [d["desk"] for d in doc["desks"]])
    _need(out, "state_dir", str, "")
    _int_in(out, "config_version", 0, 0x7FFFFFFF, "")
    backoff = out["retry_backoff_s"]
    if not isinstance(backoff, list) or not all(_is_positive_int(v) for v in backoff):
        raise ConfigError("retry_backoff_s: must be a list of positive integers (seconds)")
    words = out["cancel_words"]
    if not isinstance(words, list) or not all(
            isinstance(w, str) and not is_blank(w) for w in words):
        raise ConfigError("cancel_words: must be a list of non-empty texts")
    _int_in(out, "rejoin_s", 0, DAY_S, "")
    _int_in(out, "max_reply_parts", 1, 255, "")
    _int_in(out, "offer_timeout_s", 0, DAY_S, "")
    _int_in(out, "max_missed_offers", 0, 255, "")
    _int_in(out, "private_timeout_s", 0, DAY_S, "")
    _int_in(out, "vip_priority_s", 0, DAY_S, "")
    vips = out["vip_numbers"]
    if not isinstance(vips, list) or not all(isinstance(v, str) and v for v in vips):
        raise ConfigError("vip_numbers: must be a list of phone numbers")
    _int_in(out, "short_abandon_s", 0, DAY_S, "")
    _int_in(out, "queue_capacity", 1, MAX_QUEUE_CAPACITY, "")
    _int_in(out, "remembered_messages", 1, 65536, "")
    _int_in(out, "remembered_customers", 1, 65536, "")
    _int_in(out, "remembered_sends", 1, 65536, "")
    _int_in(out, "snapshot_every_events", 1, 10000000, "")
    _int_in(out, "snapshot_every_s", 1, 30 * DAY_S, "")
    _int_in(out, "disk_ceiling_mb", 1, 1000000, "")
    _int_in(out, "retention_days", 0, 3660, "")
    _int_in(out, "reopen_window_s", 0, DAY_S, "")
    _int_in(out, "remembered_closes", 1, 65536, "")
    _int_in(out, "remembered_preferences", 1, 65536, "")
    _int_in(out, "remembered_surveys", 1, 65536, "")
    _int_in(out, "survey_delay_s", 0, DAY_S, "")
    _int_in(out, "survey_window_s", 60, 30 * DAY_S, "")
    _int_in(out, "survey_cooldown_days", 0, 3660, "")
    _int_in(out, "position_update_s", 60, DAY_S, "")
    _int_in(out, "max_position_sms", 0, 20, "")
    _int_in(out, "callback_retry_s", 60, 7 * DAY_S, "")
    _int_in(out, "callback_max_attempts", 1, 20, "")
    _int_in(out, "service_level_target_pm", 1, 1000, "")
    _int_in(out, "wait_alert_s", 1, DAY_S, "")
    interval = _int_in(out, "report_interval_s", 60, DAY_S, "")
    if interval % 60 or DAY_S % interval:
        raise ConfigError("report_interval_s: must be whole minutes that divide a day "
                          "(e.g. 900 or 1800), got %d" % interval)
    for key in ("metrics_interval_s", "service_level_s", "concat_timeout_s"):
        if not _is_positive_int(out[key]):
            raise ConfigError("%s: must be a positive integer" % key)
    Service(out)  # languages, texts, hours, menu, templates, dispositions
    return out


def warnings(cfg):
    """What a valid config may mean but probably does not: one line each, for the log."""
    out = []
    if not cfg["modems"]:
        out.append("modems: none configured: no SMS can be received or sent")
    return out
