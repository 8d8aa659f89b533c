"""Property: whatever a customer types, the menu hands off or answers within a bound."""

import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "portable"))
from menu_config import MENU, QUEUES  # noqa: E402

from branchline.core.menu import Menu  # noqa: E402

WORDS = st.one_of(st.sampled_from(["1", "2", "3", "１", "0", "中文", "english", "agent", ""]),
                  st.text(max_size=12))


@settings(max_examples=500, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=40), st.sampled_from(["en", "zh"]))
def test_every_message_sequence_leaves_the_menu_within_the_bound(texts, lang):
    m = Menu(MENU, QUEUES, ["en", "zh"])
    state = ["", 0, 0]
    bound = 2 * (m.max_prompts + 1) + 1  # the tree is two deep
    for count, text in enumerate(texts, 1):
        state, actions = m.step(state, text, lang)
        for a in actions:
            if a[0] == "language":
                lang = a[1]
        if any(a[0] in ("handoff", "answer") for a in actions):
            assert count <= bound
            return
        assert count < bound
