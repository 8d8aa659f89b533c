"""Text rules that give the same answer on every runtime.

CPython's str methods follow Unicode; MicroPython's know ASCII only: "٣".isdigit() is
true on one and false on the other, "\u3000".strip() empties the string on one only,
str.lower() folds every script on one and ASCII on the other. Whatever decides
routing, parsing or what is refused goes through these instead.
"""

# Unicode's White_Space characters, listed so that no runtime's tables are needed.
WHITESPACE = (" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003"
              "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def ascii_lower(text):
    """Lower-case A-Z only (keywords match the same way on every runtime): bytes.lower()
    is ASCII-only on both, and UTF-8 bytes of other characters are all above 127."""
    try:
        return text.encode().lower().decode()
    except UnicodeError:  # a lone surrogate (a broken UCS-2 pair) has no UTF-8
        return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def is_digits(text):
    """True for a non-empty run of 0-9: other scripts' digits are not numbers here."""
    if not text:
        return False
    for c in text:
        if not "0" <= c <= "9":
            return False
    return True


def is_blank(text):
    """True when `text` holds nothing but white space (of any script)."""
    for c in text:
        if c not in WHITESPACE:
            return False
    return True


ENDING_PUNCTUATION = ".!?\u3002\uff01\uff1f"  # and the CJK full-width ones


def bare(text):
    """`text` as a short command is compared: A-Z lower-cased, white space (of any script)
    and final punctuation around it removed ("  Cancel! " -> "cancel")."""
    start, end = 0, len(text)
    while start < end and text[start] in WHITESPACE:
        start += 1
    while end > start and (text[end - 1] in WHITESPACE or text[end - 1] in ENDING_PUNCTUATION):
        end -= 1
    return ascii_lower(text[start:end])
