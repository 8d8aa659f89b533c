"""What erasing a customer does to the journal: every record that names the number or
carries the text of one of its conversations is rewritten, the number becoming the
erasure's pseudonym ("erased-<n>") and every text ERASED. The records keep their kind,
time and conversation, so the rewritten journal still replays (a conversation of
"erased-3" with its texts gone); what it no longer holds is who, and what was said.

Not rewritten: the PDUs of undecodable messages (sms_bad), which a technician may need
and which name no number in clear; a message fingerprint ("fp"), a hash.
"""

ERASED = "(erased)"
_TEXT_FIELDS = ("text", "note", "summary")


def redact(event, number, conv_ids, pseudonym):
    """`event` as the rewritten journal holds it: a new dict, or `event` itself when it
    has nothing of the customer's. `conv_ids`: the customer's conversations (a set)."""
    kind = event.get("k")
    names = event.get("from") == number or event.get("to") == number or (
        event.get("customer") == number)
    if not names and event.get("conv") not in conv_ids:
        return event
    if kind == "customer":  # the profile itself: only that there was one stays
        return {"k": kind, "t": event["t"], "customer": pseudonym}
    out = dict(event)
    for field in ("from", "to", "customer"):
        if out.get(field) == number:
            out[field] = pseudonym
    for field in _TEXT_FIELDS:
        if isinstance(out.get(field), str) and out[field]:
            out[field] = ERASED
    return out
