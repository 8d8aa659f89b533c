"""The device configuration (JSON produced by provisioning), validated with errors that
name the offending key, e.g. `desks[1].cap: must be 1..3, got 5`."""

MAX_QUEUES = 32
MAX_DESKS = 64

DEFAULTS = {
    "metrics_interval_s": 60,
    "service_level_s": 40,
    "config_version": 0,
    "state_dir": "state",
    "concat_timeout_s": 600,
    "retry_backoff_s": [30, 120, 600, 1800],
    "callback_ack": "We missed your call. An agent will call you back as soon as possible.",
    "max_reply_parts": 6,
}
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


class ConfigError(ValueError):
    pass


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


def _check_port(doc, where):
    """A serial port: its device path and baud rate."""
    _need(doc, "port", str, where)
    _int_in(doc, "baud", 300, 4000000, where, default=115200)


def _check_modems(modems):
    ids = {}
    for i, m in enumerate(modems):
        where = "modems[%d]." % i
        if not isinstance(m, dict):
            raise ConfigError("modems[%d]: must be an object" % i)
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
    modems = doc.get("modems", [])
    if not isinstance(modems, list):
        raise ConfigError("modems: must be a list")
    _check_modems(modems)
    for key in ("panel", "mqtt", "console"):
        if key in doc and not isinstance(doc[key], dict):
            raise ConfigError("%s: must be an object" % key)
    if "panel" in doc:
        _check_port(doc["panel"], "panel.")
    mqtt = doc.get("mqtt", {})
    if "host" in mqtt:
        _need(mqtt, "host", str, "mqtt.")
    _int_in(mqtt, "port", 1, 65535, "mqtt.", default=1883)
    _int_in(mqtt, "keepalive", 5, 3600, "mqtt.", default=30)
    console = doc.get("console", {})
    if "host" in console:
        _need(console, "host", str, "console.")
    _int_in(console, "port", 0, 65535, "console.", default=8080)


def _check_queues(queues):
    names = {}
    if not 1 <= len(queues) <= MAX_QUEUES:
        raise ConfigError("queues: need 1..%d queues, got %d" % (MAX_QUEUES, len(queues)))
    for i, q in enumerate(queues):
        where = "queues[%d]." % i
        if not isinstance(q, dict):
            raise ConfigError("queues[%d]: must be an object" % i)
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
    return names


def _check_desks(desks, queue_names):
    if not 1 <= len(desks) <= MAX_DESKS:
        raise ConfigError("desks: need 1..%d desks, got %d" % (MAX_DESKS, len(desks)))
    seen = {}
    for i, d in enumerate(desks):
        where = "desks[%d]." % i
        if not isinstance(d, dict):
            raise ConfigError("desks[%d]: must be an object" % i)
        desk = _need(d, "desk", int, where)
        if not 1 <= desk <= MAX_DESKS:
            raise ConfigError("%sdesk: must be 1..%d, got %d" % (where, MAX_DESKS, desk))
        if desk in seen:
            raise ConfigError("%sdesk: desk %d is listed twice" % (where, desk))
        seen[desk] = True
        cap = _need(d, "cap", int, where)
        if not 1 <= cap <= 3:
            raise ConfigError("%scap: must be 1..3, got %d" % (where, cap))
        served = _need(d, "queues", list, where)
        for j, name in enumerate(served):
            if not isinstance(name, str) or name not in queue_names:
                raise ConfigError("%squeues[%d]: no queue named %r" % (where, j, name))


def validate(doc):
    """Check `doc` and return it with defaults filled in; raise ConfigError otherwise."""
    if not isinstance(doc, dict):
        raise ConfigError("config: must be a JSON object")
    _name(doc, "site", "")
    _name(doc, "device", "")
    queue_names = _check_queues(_need(doc, "queues", list, ""))
    _check_desks(_need(doc, "desks", list, ""), queue_names)
    _check_sections(doc)
    out = dict(DEFAULTS)
    out.update(doc)
    _need(out, "state_dir", str, "")
    _int_in(out, "config_version", 0, 0x7FFFFFFF, "")
    backoff = out["retry_backoff_s"]
    if not isinstance(backoff, list) or not all(_is_positive_int(v) for v in backoff):
        raise ConfigError("retry_backoff_s: must be a list of positive integers (seconds)")
    if not isinstance(out["callback_ack"], str) or not out["callback_ack"].strip():
        raise ConfigError("callback_ack: must be a non-empty text")
    _int_in(out, "max_reply_parts", 1, 255, "")
    for key in ("metrics_interval_s", "service_level_s", "concat_timeout_s"):
        if not _is_positive_int(out[key]):
            raise ConfigError("%s: must be a positive integer" % key)
    return out
