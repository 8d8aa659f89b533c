"""The outcomes the simulated network puts in status reports (the PDUs themselves come
from the firmware's codec, `pdu.encode_status_report`)."""

# TP-ST outcomes (23.040 9.2.3.15) by the names tests and the control socket use.
STATUS = {
    "delivered": 0x00,  # short message received by the SME
    "temporary": 0x21,  # temporary error, SC still trying: SME busy
    "permanent": 0x41,  # permanent error: incompatible destination
    "expired": 0x46,  # permanent error: validity period expired
    "gave_up": 0x62,  # temporary error, SC no longer trying: no response from SME
}


def status_code(outcome):
    """'delivered' / 0x41 -> TP-ST octet; ValueError names the choices."""
    if isinstance(outcome, int) and 0 <= outcome <= 255:
        return outcome
    if outcome in STATUS:
        return STATUS[outcome]
    raise ValueError("report outcome %r: use a TP-ST octet or one of %s" % (outcome, ", ".join(STATUS)))

