"""Masking of personal data in logs: phone numbers show only enough to tell them apart."""


def mask_number(number):
    """'+8613800138000' -> '+86138****8000'; short numbers keep only their last two digits."""
    if not isinstance(number, str):
        return "?"
    if len(number) <= 6:
        return "*" * max(0, len(number) - 2) + number[-2:]
    keep_head = 6 if number.startswith("+") else 5
    keep_head = min(keep_head, len(number) - 6)
    return number[:keep_head] + "****" + number[-4:]
