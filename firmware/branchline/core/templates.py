"""Texts with placeholders: agents' canned replies and the branch's own messages.

A placeholder is a name in braces, "{customer_name}"; "{{" and "}}" stand for braces
themselves. Which names a text may use depends on where it is used (PLACEHOLDERS): a
name it may not use is a configuration error, found when the configuration is read;
a value missing when the text is sent is a refusal naming it, never a half-filled SMS.

Canned replies ("templates") are configured per queue and language:

    [{"name": "greeting", "text": {"en": "Hello {customer_name}, this is {desk_name}.",
                                   "zh": "{customer_name}您好，我是{desk_name}。"}},
     {"name": "card_lost", "queues": ["cards"], "text": "..."}]

A template without "queues" serves every queue.
"""

from branchline.core.config_error import ConfigError
from branchline.core.language import check_text, pick

# What each kind of text may say.
REPLY = ("customer_name", "desk_name", "branch_hours", "queue", "wait_minutes")
FAQ = ("branch_hours",)
AFTER_HOURS = ("opens_at", "branch_hours")
POSITION = ("position", "wait_minutes")
TEMPLATE_KEYS = ("name", "queues", "text")
MAX_TEMPLATES = 64


class MissingValue(ValueError):
    """A placeholder with no value now (the message names it)."""


def parse(text, allowed, where):
    """`text` -> [literal or (placeholder,), ...]; ConfigError for a placeholder not in
    `allowed` or a brace left open."""
    parts = []
    literal = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "{}" and i + 1 < n and text[i + 1] == c:
            literal.append(c)
            i += 2
            continue
        if c == "}":
            raise ConfigError("%s: a lone '}' (write '}}' for a brace)" % where)
        if c != "{":
            literal.append(c)
            i += 1
            continue
        end = text.find("}", i)
        if end < 0:
            raise ConfigError("%s: '{' without its '}' (write '{{' for a brace)" % where)
        name = text[i + 1:end]
        if name not in allowed:
            raise ConfigError("%s: unknown placeholder {%s} (this text may use %s)"
                              % (where, name, ", ".join("{%s}" % a for a in allowed)))
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append((name,))
        i = end + 1
    if literal:
        parts.append("".join(literal))
    return parts


def render(parts, values):
    """The text of `parts` with `values` filled in; MissingValue names the first
    placeholder without one (None or absent)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = values.get(part[0])
        if value is None or value == "":
            raise MissingValue("no value for {%s}" % part[0])
        out.append(value if isinstance(value, str) else str(value))
    return "".join(out)


def compile_text(value, languages, allowed, where, allow_empty=False):
    """A configured text (one string or one per language) -> {lang: parts}."""
    check_text(value, languages, where, allow_empty)
    out = {}
    for lang in languages:
        out[lang] = parse(pick(value, lang), allowed,
                          where if isinstance(value, str) else "%s.%s" % (where, lang))
    return out


class Templates:
    """The canned replies of every queue, checked once."""

    def __init__(self, doc, queue_names, languages):
        if not isinstance(doc, list) or len(doc) > MAX_TEMPLATES:
            raise ConfigError("templates: must be a list of at most %d templates" % MAX_TEMPLATES)
        self._by_name = {}
        self._order = []
        for i, t in enumerate(doc):
            where = "templates[%d]" % i
            if not isinstance(t, dict):
                raise ConfigError("%s: must be an object" % where)
            for key in sorted(t):
                if key not in TEMPLATE_KEYS:
                    raise ConfigError("%s.%s: unknown key" % (where, key))
            name = t.get("name")
            if not isinstance(name, str) or not name:
                raise ConfigError("%s.name: must be a non-empty text" % where)
            if name in self._by_name:
                raise ConfigError("%s.name: %r is used twice" % (where, name))
            queues = t.get("queues")
            if queues is not None:
                if not isinstance(queues, list) or not queues:
                    raise ConfigError("%s.queues: must be a non-empty list of queues" % where)
                for j, q in enumerate(queues):
                    if q not in queue_names:
                        raise ConfigError("%s.queues[%d]: no queue named %r" % (where, j, q))
            if "text" not in t:
                raise ConfigError("%s.text: missing" % where)
            self._by_name[name] = (queues, compile_text(t["text"], languages, REPLY,
                                                        where + ".text"))
            self._order.append(name)

    def names_for(self, queue):
        """The templates an agent answering `queue` may use, in configured order."""
        out = []
        for name in self._order:
            queues = self._by_name[name][0]
            if queues is None or queue in queues:
                out.append(name)
        return out

    def parts(self, name, queue, lang):
        """The compiled text of template `name` for `queue` in `lang`; KeyError when
        the queue has no such template."""
        if name not in self.names_for(queue):
            raise KeyError(name)
        return self._by_name[name][1][lang]
