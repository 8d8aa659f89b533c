"""The self-service menu: answers simple questions by SMS and hands the rest to a person.

Configuration ("menu"):

    {"max_menu_prompts": 3, "idle_timeout_s": 1800,
     "handoff_keywords": ["人工", "agent", "human", "0"],
     "language_keywords": {"en": ["english"], "zh": ["中文"]},
     "not_understood": {"en": "Sorry, I did not understand.", "zh": "抱歉，我没有看懂。"},
     "handoff_ack": {"en": "An agent will answer you shortly.", "zh": "人工客服将尽快回复您。"},
     "general_queue": "general",
     "root": {"prompt": {"en": "Reply 1 for accounts, 3 for opening hours, 0 for an agent",
                         "zh": "回复1 账户, 3 营业时间, 0 人工"},
              "options": {"1": {"queue": "accounts"},
                          "2": {"prompt": {...}, "options": {...}},
                          "3": {"answer": {"en": "We are open {branch_hours}.", ...}}}}}

A node is a menu (prompt and options), an answer (an FAQ: the conversation is solved by
the menu alone, "contained") or a queue (hand-off to people). A conversation's place in
the menu is its state [path, prompts, misses]: the option keys taken, the prompts sent
since the last choice, the unrecognised answers in a row.

No input sequence loops: every message either ends self-service (a hand-off or an
answer), goes one level down the finite tree (a choice), or sends a prompt, and more
than `max_menu_prompts` prompts since the last choice, or two unrecognised answers in a
row, hand off to the general queue.
"""

from branchline.core.config_error import ConfigError
from branchline.core.language import check_text, pick
from branchline.core.templates import FAQ, compile_text
from branchline.text import ascii_lower, bare, is_digits

MENU_KEYS = ("max_menu_prompts", "idle_timeout_s", "handoff_keywords", "language_keywords",
             "not_understood", "handoff_ack", "general_queue", "root")
NODE_KEYS = ("prompt", "options", "answer", "queue")
MAX_DEPTH = 8
MAX_OPTIONS = 10
MAX_MISSES = 2
DEFAULT_PROMPTS = 3


def normalise(text):
    """How an answer is compared: bare() with full-width digits (what Chinese phone
    keyboards type) made ASCII."""
    out = []
    for c in text:
        code = ord(c)
        out.append(chr(code - 0xFF10 + 0x30) if 0xFF10 <= code <= 0xFF19 else c)
    return bare("".join(out))


class Menu:
    def __init__(self, doc, queue_names, languages):
        if not isinstance(doc, dict):
            raise ConfigError("menu: must be an object")
        for key in sorted(doc):
            if key not in MENU_KEYS:
                raise ConfigError("menu.%s: unknown key" % key)
        self.languages = languages
        self.max_prompts = _int(doc, "max_menu_prompts", DEFAULT_PROMPTS, 1, 20)
        self.idle_timeout_ms = _int(doc, "idle_timeout_s", 1800, 60, 86400) * 1000
        self.general_queue = doc.get("general_queue", queue_names[0])
        if self.general_queue not in queue_names:
            raise ConfigError("menu.general_queue: no queue named %r" % (self.general_queue,))
        self._handoff = _words(doc.get("handoff_keywords", ["0"]), "menu.handoff_keywords")
        self._language_words = {}
        words = doc.get("language_keywords", {})
        if not isinstance(words, dict):
            raise ConfigError("menu.language_keywords: must be an object of keyword lists")
        for lang in sorted(words):
            if lang not in languages:
                raise ConfigError("menu.language_keywords.%s: not one of the branch's languages"
                                % lang)
            for word in _words(words[lang], "menu.language_keywords." + lang):
                self._language_words[word] = lang
        self.not_understood = doc.get("not_understood", "")
        self.handoff_ack = doc.get("handoff_ack", "")
        check_text(self.not_understood, languages, "menu.not_understood", allow_empty=True)
        check_text(self.handoff_ack, languages, "menu.handoff_ack", allow_empty=True)
        self.root = _node(doc.get("root"), "menu.root", queue_names, languages, 0)
        if "prompt" not in self.root:
            raise ConfigError("menu.root: must be a menu (prompt and options)")
        self._check_options(self.root, "menu.root")

    def _check_options(self, node, where):
        """An option the keywords would take first could never be chosen."""
        for key in sorted(node.get("options", {})):
            here = "%s.options.%s" % (where, key)
            if key in self._handoff or key in self._language_words:
                raise ConfigError("%s: is also a keyword (hand-off or language): choose "
                                  "another reply" % here)
            self._check_options(node["options"][key], here)

    # -- one message -----------------------------------------------------------------
    def step(self, state, text, lang):
        """A message while in self-service -> (state, actions). The first (no prompt sent
        yet) may be a greeting, which is no unrecognised answer. Actions are, in
        order: ("language", code) the customer chose another language; ("say", text);
        ("handoff", queue) leave self-service for that queue; ("answer", parts) an FAQ
        answer (templates.render it), which ends the conversation as contained."""
        path, prompts, misses = state
        word = normalise(text)
        if self._is_handoff(word, text):
            return state, [("handoff", self.general_queue)]
        node = self._node_at(path)
        actions = []
        chosen = node["options"].get(word)
        if word in self._language_words:
            lang = self._language_words[word]
            actions.append(("language", lang))
        elif chosen is not None:
            if "queue" in chosen:
                return state, [("handoff", chosen["queue"])]
            if "answer" in chosen:
                return state, [("answer", chosen["answer"][lang])]
            return [path + word + "/", 1, 0], [("say", pick(chosen["prompt"], lang))]
        elif prompts:
            misses += 1
            if misses >= MAX_MISSES:
                return state, [("handoff", self.general_queue)]
        if prompts >= self.max_prompts:
            return state, actions + [("handoff", self.general_queue)]
        prompt = pick(node["prompt"], lang)
        if misses and not actions:
            sorry = pick(self.not_understood, lang)
            prompt = sorry + " " + prompt if sorry else prompt
        return [path, prompts + 1, misses], actions + [("say", prompt)]

    def _is_handoff(self, word, text):
        low = ascii_lower(text)
        for kw in self._handoff:
            # A number is an answer only on its own ("0"); a word anywhere ("I want
            # an agent please", "转人工").
            if word == kw or (not is_digits(kw) and kw in low):
                return True
        return False

    def _node_at(self, path):
        node = self.root
        for key in path.split("/")[:-1]:
            node = node["options"][key]
        return node

    def node_prompt(self, state, lang):
        """The prompt of the menu a conversation is at (to repeat it)."""
        return pick(self._node_at(state[0])["prompt"], lang)


def _int(doc, key, default, lo, hi):
    value = doc.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError("menu.%s: must be %d..%d, got %r" % (key, lo, hi, value))
    return value


def _words(value, where):
    if not isinstance(value, list):
        raise ConfigError("%s: must be a list of texts" % where)
    out = []
    for i, word in enumerate(value):
        if not isinstance(word, str) or not normalise(word):
            raise ConfigError("%s[%d]: must be a non-empty text" % (where, i))
        out.append(normalise(word))
    return out


def _node(doc, where, queue_names, languages, depth):
    if not isinstance(doc, dict):
        raise ConfigError("%s: must be an object" % where)
    for key in sorted(doc):
        if key not in NODE_KEYS:
            raise ConfigError("%s.%s: unknown key (a node has prompt and options, an answer, "
                            "or a queue)" % (where, key))
    kinds = [k for k in ("prompt", "answer", "queue") if k in doc]
    if len(kinds) != 1 or (("options" in doc) != (kinds == ["prompt"])):
        raise ConfigError("%s: must be a menu (prompt and options), an answer, or a queue" % where)
    if "answer" in doc:
        return {"answer": compile_text(doc["answer"], languages, FAQ, where + ".answer")}
    if "queue" in doc:
        if doc["queue"] not in queue_names:
            raise ConfigError("%s.queue: no queue named %r" % (where, doc["queue"]))
        return {"queue": doc["queue"]}
    check_text(doc["prompt"], languages, where + ".prompt")
    if depth >= MAX_DEPTH:
        raise ConfigError("%s: menus nest at most %d deep" % (where, MAX_DEPTH))
    options = doc["options"]
    if not isinstance(options, dict) or not 1 <= len(options) <= MAX_OPTIONS:
        raise ConfigError("%s.options: must be an object of 1..%d options" % (where, MAX_OPTIONS))
    out = {"prompt": doc["prompt"], "options": {}}
    for key in sorted(options):
        if normalise(key) != key or not key or "/" in key:
            raise ConfigError("%s.options.%s: an option is what the customer replies, in lower "
                            "case without spaces (e.g. \"1\")" % (where, key))
        out["options"][key] = _node(options[key], "%s.options.%s" % (where, key), queue_names,
                                    languages, depth + 1)
    return out
