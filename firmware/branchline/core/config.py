"""The device configuration (JSON produced by provisioning), validated with errors that
name the offending key, e.g. `desks[1].cap: must be 1..3, got 5`."""

MAX_QUEUES = 32
MAX_DESKS = 64

DEFAULTS = {
    "metrics_interval_s": 60,
    "service_level_s": 40,
}


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
        for j, kw in enumerate(q.get("keywords", [])):
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
            if name not in queue_names:
                raise ConfigError("%squeues[%d]: no queue named %r" % (where, j, name))


def validate(doc):
    """Check `doc` and return it with defaults filled in; raise ConfigError otherwise."""
    if not isinstance(doc, dict):
        raise ConfigError("config: must be a JSON object")
    _need(doc, "site", str, "")
    _need(doc, "device", str, "")
    queue_names = _check_queues(_need(doc, "queues", list, ""))
    _check_desks(_need(doc, "desks", list, ""), queue_names)
    out = dict(DEFAULTS)
    out.update(doc)
    for key in DEFAULTS:
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError("%s: must be a positive integer" % key)
    return out
