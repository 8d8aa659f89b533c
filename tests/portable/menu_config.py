"""The menu the menu and service tests share (the README's, in small)."""

MENU = {
    "max_menu_prompts": 3,
    "handoff_keywords": ["人工", "agent", "human", "0"],
    "language_keywords": {"en": ["english"], "zh": ["中文"]},
    "not_understood": {"en": "Sorry, I did not understand.", "zh": "抱歉，我没有看懂。"},
    "root": {
        "prompt": {"en": "Reply 1 for accounts, 2 for cards, 3 for opening hours, 0 for an agent",
                   "zh": "回复1 账户, 2 银行卡, 3 营业时间, 0 人工"},
        "options": {
            "1": {"queue": "accounts"},
            "2": {"prompt": {"en": "Cards: 1 lost card, 2 other", "zh": "银行卡：1 挂失, 2 其他"},
                  "options": {"1": {"answer": {"en": "Call 2233 4455 to block it.",
                                               "zh": "请致电 2233 4455 挂失。"}},
                              "2": {"queue": "cards"}}},
            "3": {"answer": {"en": "Open today {branch_hours}.", "zh": "今天营业 {branch_hours}。"}},
        },
    },
}
QUEUES = ["general", "accounts", "cards"]
