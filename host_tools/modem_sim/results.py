"""Result codes: how a command ends, in the form AT+CMEE and ATV ask for, and the table
of command handlers that produce them."""

# Final result codes with their ATV0 numbers (V.250 5.7.1).
OK = "OK"
ERROR = "ERROR"
NO_CARRIER = "NO CARRIER"
NUMERIC = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4, "NO DIALTONE": 6,
           "BUSY": 7, "NO ANSWER": 8}

# +CME ERROR (27.007 9.2) and +CMS ERROR (27.005 3.2.5) reasons this modem gives, with the
# texts AT+CMEE=2 shows.
CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    21: "invalid index",
    30: "no network service",
    50: "Incorrect parameters",
    100: "unknown",
}
CMS_TEXT = {
    300: "ME failure",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    310: "SIM not inserted",
    321: "invalid memory index",
    322: "memory full",
    331: "no network service",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


class CommandError(Exception):
    """A command fails with +CME ERROR (family 'CME'), +CMS ERROR ('CMS'), or plain ERROR."""

    def __init__(self, code=None, family="CME"):
        super().__init__(code)
        self.code = code
        self.family = family

    def line(self, cmee):
        """The final result line under AT+CMEE=<cmee>."""
        if cmee == 0 or self.code is None:
            return ERROR
        if cmee == 2:
            table = CME_TEXT if self.family == "CME" else CMS_TEXT
            return "+%s ERROR: %s" % (self.family, table.get(self.code, self.code))
        return "+%s ERROR: %d" % (self.family, self.code)


def plain():
    """Plain ERROR whatever AT+CMEE says: what modems answer to commands they do not know."""
    return CommandError(None)


def cme(code):
    return CommandError(code, "CME")


def cms(code):
    return CommandError(code, "CMS")


# A handler returns PENDING when it ends the command itself later (the '>' prompt).
PENDING = object()

HANDLERS = {}  # command name ('+CMGS', 'E', '&F') -> (function(sim, command), test answer)


def handles(*names, test=None):
    """Register the decorated method for the AT commands `names`. The dispatcher answers
    AT<name>=? itself with `test` (a line, a function of the sim giving one, or None)."""

    def register(fn):
        for name in names:
            HANDLERS[name] = (fn, test)
        return fn

    return register


def number(text, allowed, error):
    """int(text) when it is in `allowed` (a range or tuple), else raise `error`."""
    try:
        value = int(text)
    except ValueError:
        raise error from None
    if value not in allowed:
        raise error
    return value
