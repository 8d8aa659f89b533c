"""The self-service menu: choices, FAQ answers, hand-off by keyword, language by script
or keyword, and no input sequence that keeps a customer in the menu."""

from check import raises
from menu_config import MENU, QUEUES

from branchline.core import templates
from branchline.core.config_error import ConfigError
from branchline.core.language import detect
from branchline.core.menu import Menu

LANGS = ["en", "zh"]


def menu(**changes):
    doc = dict(MENU)
    doc.update(changes)
    return Menu(doc, QUEUES, LANGS)


def run(m, texts, lang="en"):
    state = ["", 0, 0]
    said = []
    for text in texts:
        state, actions = m.step(state, text, lang)
        for a in actions:
            if a[0] == "language":
                lang = a[1]
            elif a[0] == "say":
                said.append(a[1])
            else:
                return said, a
    return said, None


def test_a_greeting_prompts_and_choices_lead_to_a_queue_or_an_answer():
    m = menu()
    said, end = run(m, ["hello", "2", "2"])
    assert said == [MENU["root"]["prompt"]["en"], "Cards: 1 lost card, 2 other"]
    assert end == ("handoff", "cards")
    said, end = run(m, ["你好", "２", "1"], "zh")  # a full-width digit is a digit
    assert said[0] == MENU["root"]["prompt"]["zh"]
    assert end[0] == "answer" and templates.render(end[1], {}) == "请致电 2233 4455 挂失。"
    # A first message that is a choice needs no prompt.
    assert run(m, ["1"]) == ([], ("handoff", "accounts"))


def test_keywords_hand_off_at_once_wherever_the_customer_is():
    m = menu()
    assert run(m, ["hi", "2", "I want a HUMAN please"])[1] == ("handoff", "general")
    assert run(m, ["转人工"])[1] == ("handoff", "general")
    assert run(m, ["hi", " 0 "])[1] == ("handoff", "general")
    # "0" inside a longer answer is no keyword: an unrecognised answer.
    said, end = run(m, ["hi", "10"])
    assert end is None and said[1].startswith("Sorry, I did not understand.")


def test_two_unrecognised_answers_or_too_many_prompts_go_to_the_general_queue():
    m = menu()
    said, end = run(m, ["hi", "what?", "huh"])
    assert end == ("handoff", "general") and len(said) == 2
    # Switching language re-prompts, in the new language, and counts as a prompt.
    said, end = run(m, ["hi", "中文", "english", "english"])
    assert said[1] == MENU["root"]["prompt"]["zh"] and said[2] == MENU["root"]["prompt"]["en"]
    assert end == ("handoff", "general")


def test_the_script_of_the_first_message_chooses_the_language():
    assert detect("hello", LANGS) == "en"
    assert detect("您好，我的卡丢了", LANGS) == "zh"
    assert detect("card 丢了", LANGS) == "zh"
    assert detect("Привет", LANGS) == "en"  # no script of its own: the fallback
    assert detect("你好", ["en"]) == "en"


def test_no_input_sequence_keeps_a_customer_in_the_menu():
    """Every sequence over an alphabet of choices, keywords and noise ends within
    (depth + 1) x (max prompts + 1) messages."""
    m = menu()
    alphabet = ["1", "2", "3", "9", "hi", "中文", "english", "??"]
    bound = 2 * (m.max_prompts + 1) + 1
    frontier = [["", 0, 0]]
    for _ in range(bound):
        nxt = []
        for state in frontier:
            for text in alphabet:
                new, actions = m.step(state, text, "en")
                if not any(a[0] in ("handoff", "answer") for a in actions):
                    nxt.append(new)
        seen = {}
        for state in nxt:
            seen[repr(state)] = state
        frontier = list(seen.values())
    assert frontier == []


def test_configuration_errors_name_the_key_path():
    root = MENU["root"]
    cases = (
        ({"root": {"prompt": "x", "options": {"1": {"queue": "nope"}}}},
         "menu.root.options.1.queue: no queue named 'nope'"),
        ({"root": {"prompt": "x", "options": {"1": {"answer": {"en": "a"}}}}},
         "menu.root.options.1.answer.zh: missing"),
        ({"root": {"prompt": "x", "options": {"1": {"answer": "Open {hours}"}}}},
         "menu.root.options.1.answer: unknown placeholder {hours}"),
        ({"root": {"prompt": "x", "options": {"0": {"queue": "cards"}}}},
         "menu.root.options.0: is also a keyword"),
        ({"root": {"prompt": "x", "options": {"One": {"queue": "cards"}}}},
         "menu.root.options.One: an option is what the customer replies"),
        ({"root": {"answer": "x"}}, "menu.root: must be a menu"),
        ({"root": {"prompt": "x", "options": {"1": {"prompt": "y"}}}},
         "menu.root.options.1: must be a menu"),
        ({"max_menu_prompts": 0, "root": root}, "menu.max_menu_prompts: must be 1..20"),
        ({"general_queue": "x", "root": root}, "menu.general_queue: no queue named 'x'"),
        ({"language_keywords": {"fr": ["fr"]}, "root": root},
         "menu.language_keywords.fr: not one of the branch's languages"),
    )
    for changes, message in cases:
        with raises(ConfigError, message):
            menu(**changes)
