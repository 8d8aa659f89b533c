"""+CMS ERROR / +CME ERROR codes: what they mean and what a sender should do about them.

Portable (CPython 3.11+ and MicroPython 1.22+), no I/O.

Sources: 3GPP TS 27.005 3.2.5 (+CMS: 0-127 are RP-Cause values of TS 24.011 8.2.5.4,
128-255 TP-FCS values of TS 23.040 9.2.3.22, 300-500 the AT layer's own, 512 and up
manufacturer specific) and 3GPP TS 27.007 9.2 (+CME: general and GPRS errors, the
GPRS ones numbered 100 + the 24.008 cause). The wording follows the specifications, checked
against gammu's tables (libgammu/phone/at/atgen.c), which also quote the Quectel
EC2x manual (section 21.6) for that vendor's +CMS codes from 512 up.

What to do with a failed AT+CMGS is `cms_kind`:
- TEMPORARY: the network or modem may accept the same PDU later; retry with backoff.
  Every code this module cannot name counts here (500 'unknown error', unspecified
  causes, reserved values, vendor codes): a bounded number of retries costs little,
  a reply wrongly marked failed costs a customer.
- MODEM: this modem or its SIM cannot send at all (no SIM, PIN, SIM failure, no SMSC
  address, ME failure). The text is fine: send it through another modem, or through
  this one after it has been reset or fixed; never mark the message failed for this.
- PERMANENT: this message can never go through as it is (bad number, barred, rejected
  PDU); mark it failed with `describe`'s reason.
`cms_is_temporary` is the yes/no form for a single-modem retry loop (MODEM is 'no').
"""

CMS = "CMS"
CME = "CME"
TEMPORARY = "temporary"
MODEM = "modem"
PERMANENT = "permanent"

_VENDOR_FIRST = 512

# +CMS ERROR codes: code -> (reason, kind).
_CMS = {
    # RP-Cause (24.011 8.2.5.4, table 8.4 part 3); kinds from its annex E-2 wording.
    1: ("unassigned (unallocated) number", PERMANENT),
    8: ("operator determined barring", PERMANENT),
    10: ("call barred", PERMANENT),
    17: ("network failure", TEMPORARY),
    21: ("short message transfer rejected", PERMANENT),
    22: ("memory capacity exceeded", TEMPORARY),  # the recipient's memory; it may free some
    27: ("destination out of service", TEMPORARY),
    28: ("unidentified subscriber", PERMANENT),
    29: ("facility rejected", PERMANENT),
    30: ("unknown subscriber", PERMANENT),
    38: ("network out of order", TEMPORARY),
    41: ("temporary failure", TEMPORARY),
    42: ("congestion", TEMPORARY),
    47: ("resources unavailable, unspecified", TEMPORARY),
    50: ("requested facility not subscribed", PERMANENT),
    69: ("requested facility not implemented", PERMANENT),
    81: ("invalid short message transfer reference value", PERMANENT),
    95: ("invalid message, unspecified", PERMANENT),
    96: ("invalid mandatory information", PERMANENT),
    97: ("message type non-existent or not implemented", PERMANENT),
    98: ("message not compatible with short message protocol state", PERMANENT),
    99: ("information element non-existent or not implemented", PERMANENT),
    111: ("protocol error, unspecified", TEMPORARY),
    127: ("interworking, unspecified", TEMPORARY),
    # TP-FCS (23.040 9.2.3.22).
    128: ("telematic interworking not supported", PERMANENT),
    129: ("short message type 0 not supported", PERMANENT),
    130: ("cannot replace short message", PERMANENT),
    143: ("unspecified TP-PID error", PERMANENT),
    144: ("data coding scheme (alphabet) not supported", PERMANENT),
    145: ("message class not supported", PERMANENT),
    159: ("unspecified TP-DCS error", PERMANENT),
    160: ("command cannot be actioned", PERMANENT),
    161: ("command unsupported", PERMANENT),
    175: ("unspecified TP-Command error", PERMANENT),
    176: ("TPDU not supported", PERMANENT),
    192: ("SC busy", TEMPORARY),
    193: ("no SC subscription", MODEM),  # the SIM's subscription, not the text
    194: ("SC system failure", TEMPORARY),
    195: ("invalid SME address", PERMANENT),
    196: ("destination SME barred", PERMANENT),
    # The SC already holds a SUBMIT with this TP-MR: resending the same PDU cannot help.
    197: ("SM rejected, duplicate SM", PERMANENT),
    198: ("TP-VPF not supported", PERMANENT),
    199: ("TP-VP not supported", PERMANENT),
    208: ("(U)SIM SMS storage full", MODEM),
    209: ("no SMS storage capability in (U)SIM", MODEM),
    210: ("error in MS", MODEM),
    211: ("memory capacity exceeded", MODEM),
    212: ("(U)SIM application toolkit busy", TEMPORARY),
    213: ("(U)SIM data download error", TEMPORARY),
    255: ("unspecified error cause", TEMPORARY),
    # The AT layer (27.005 3.2.5).
    300: ("ME failure", MODEM),
    301: ("SMS service of ME reserved", TEMPORARY),
    302: ("operation not allowed", MODEM),  # the modem's state (mode, SIM not ready), not the PDU
    303: ("operation not supported", MODEM),
    304: ("invalid PDU mode parameter", PERMANENT),
    305: ("invalid text mode parameter", PERMANENT),
    310: ("(U)SIM not inserted", MODEM),
    311: ("(U)SIM PIN required", MODEM),
    312: ("PH-(U)SIM PIN required", MODEM),
    313: ("(U)SIM failure", MODEM),
    314: ("(U)SIM busy", TEMPORARY),
    315: ("(U)SIM wrong", MODEM),
    316: ("(U)SIM PUK required", MODEM),
    317: ("(U)SIM PIN2 required", MODEM),
    318: ("(U)SIM PUK2 required", MODEM),
    320: ("memory failure", MODEM),
    321: ("invalid memory index", PERMANENT),  # AT+CMGR/CMGD/CMSS of a slot that is not there
    322: ("memory full", MODEM),
    330: ("SMSC address unknown", MODEM),
    331: ("no network service", TEMPORARY),
    332: ("network timeout", TEMPORARY),
    340: ("no +CNMA acknowledgement expected", PERMANENT),
    500: ("unknown error", TEMPORARY),
}

# Manufacturer-specific +CMS codes (512 and up mean different things per vendor).
_VENDOR_CMS = {
    "quectel": {
        512: "SIM not ready",
        513: "message length exceeds",
        514: "invalid request parameters",
        515: "ME storage failure",
        517: "invalid service mode",
        528: "more message to send state error",
        529: "MO SMS is not allowed",
        530: "GPRS is suspended",
        531: "ME storage full",
    },
}

# +CME ERROR codes (27.007 9.2.1 general, 9.2.2 GPRS/EPS).
_CME = {
    0: "phone failure",
    1: "no connection to phone",
    2: "phone-adaptor link reserved",
    3: "operation not allowed",
    4: "operation not supported",
    5: "PH-SIM PIN required",
    6: "PH-FSIM PIN required",
    7: "PH-FSIM PUK required",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    17: "SIM PIN2 required",
    18: "SIM PUK2 required",
    20: "memory full",
    21: "invalid index",
    22: "not found",
    23: "memory failure",
    24: "text string too long",
    25: "invalid characters in text string",
    26: "dial string too long",
    27: "invalid characters in dial string",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed, emergency calls only",
    40: "network personalization PIN required",
    41: "network personalization PUK required",
    42: "network subset personalization PIN required",
    43: "network subset personalization PUK required",
    44: "service provider personalization PIN required",
    45: "service provider personalization PUK required",
    46: "corporate personalization PIN required",
    47: "corporate personalization PUK required",
    48: "hidden key required",
    49: "EAP method not supported",
    50: "incorrect parameters",
    100: "unknown",
    103: "illegal MS",
    106: "illegal ME",
    107: "GPRS services not allowed",
    108: "GPRS and non-GPRS services not allowed",
    111: "PLMN not allowed",
    112: "location area not allowed",
    113: "roaming not allowed in this location area",
    114: "GPRS services not allowed in this PLMN",
    115: "no suitable cells in location area",
    122: "congestion",
    126: "insufficient resources",
    127: "missing or unknown APN",
    128: "unknown PDP address or PDP type",
    129: "user authentication failed",
    130: "activation rejected by GGSN, Serving GW or PDN GW",
    131: "activation rejected, unspecified",
    132: "service option not supported",
    133: "requested service option not subscribed",
    134: "service option temporarily out of order",
    148: "unspecified GPRS error",
    149: "PDP authentication failure",
    150: "invalid mobile class",
}


def _kind_name(kind):
    k = kind.upper()
    if k not in (CMS, CME):
        raise ValueError("kind must be 'CMS' or 'CME', got %r" % (kind,))
    return k


def cms_kind(code):
    """TEMPORARY, MODEM or PERMANENT for a +CMS ERROR code (see the module notes).

    A verbose code (text, from AT+CMEE=2) or None cannot be classified and counts as
    TEMPORARY: run modems with AT+CMEE=1.
    """
    entry = _CMS.get(code)
    return entry[1] if entry is not None else TEMPORARY


def cms_is_temporary(code):
    """True when the same PDU may be retried (with backoff) through the same modem."""
    return cms_kind(code) == TEMPORARY


def reason(kind, code, vendor=None):
    """The reason for a numeric code, e.g. 'SIM not inserted'; `vendor` ('quectel')
    names manufacturer-specific +CMS codes (512 and up)."""
    if not isinstance(code, int):
        return "unrecognised code"
    if _kind_name(kind) == CME:
        text = _CME.get(code)
    else:
        entry = _CMS.get(code)
        text = entry[0] if entry is not None else None
        if text is None and code >= _VENDOR_FIRST:
            text = _VENDOR_CMS.get(vendor, {}).get(code, "manufacturer-specific error")
    return text if text is not None else "unrecognised code"


def describe(kind, code, vendor=None):
    """'SIM not inserted (CME 10)'. A verbose code (AT+CMEE=2 gives text) is kept as it is;
    None (the engine found no number) gives 'error without a code (CME)'."""
    k = _kind_name(kind)
    if code is None:
        return "error without a code (%s)" % k
    if isinstance(code, str):
        return "%s (%s)" % (code, k)
    return "%s (%s %d)" % (reason(k, code, vendor), k, code)


def parse(line):
    """'+CMS ERROR: 500' -> ('CMS', 500); verbose text stays a str; other lines -> None."""
    for k in (CMS, CME):
        prefix = "+%s ERROR:" % k
        if line.startswith(prefix):
            detail = line[len(prefix):].strip()
            try:
                return k, int(detail)
            except ValueError:
                return k, detail
    return None
