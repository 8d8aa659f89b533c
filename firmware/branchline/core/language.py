"""The languages the branch speaks: choosing a customer's from the script of what they
wrote, and picking a configured text in it.

A configured text is either one string (the same in every language) or an object with
one string per language of the branch, e.g. {"en": "Hello", "zh": "您好"}. Script
detection is by code point ranges listed here, so it is the same on every runtime.
"""

from branchline.core.config_error import ConfigError
from branchline.text import is_blank

# The languages a branch may name, each with the code point ranges of its script; one
# without ranges is what any other text is taken to be.
SCRIPTS = {
    "zh": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F)),
    "en": (),
}
LANGUAGES = ("en", "zh")


def detect(text, languages):
    """The language of `languages` whose script `text` uses first, else the first one
    without a script of its own (or the first of all)."""
    fallback = None
    for lang in languages:
        if not SCRIPTS[lang]:
            fallback = fallback or lang
    if fallback == languages[0] and len(languages) == 1 or len(text.encode()) == len(text):
        return fallback or languages[0]  # one language, or ASCII: no script to look for
    for c in text:
        code = ord(c)
        if code < 0x3400:
            continue
        for lang in languages:
            for lo, hi in SCRIPTS[lang]:
                if lo <= code <= hi:
                    return lang
    return fallback or languages[0]


def pick(value, lang):
    """The configured text `value` in `lang`."""
    return value if isinstance(value, str) else value[lang]


def check_text(value, languages, where, allow_empty=False):
    """Raise ConfigError unless `value` is a text for every one of `languages`."""
    if isinstance(value, str):
        if is_blank(value) and not allow_empty:
            raise ConfigError("%s: must be a non-empty text" % where)
        return
    if not isinstance(value, dict):
        raise ConfigError("%s: must be a text or an object of texts per language (%s)"
                          % (where, ", ".join(languages)))
    for lang in sorted(value):
        if lang not in LANGUAGES:  # a default may hold languages this branch does not use
            raise ConfigError("%s.%s: not a language (use %s)"
                              % (where, lang, ", ".join(LANGUAGES)))
    for lang in languages:
        text = value.get(lang)
        if not isinstance(text, str) or (is_blank(text) and not allow_empty):
            raise ConfigError("%s.%s: missing (every language needs its text)" % (where, lang))


def check_languages(value):
    if not isinstance(value, list) or not value or any(v not in LANGUAGES for v in value):
        raise ConfigError("languages: must be a non-empty list of %s" % ", ".join(LANGUAGES))
    if len(set(value)) != len(value):
        raise ConfigError("languages: a language is listed twice")
