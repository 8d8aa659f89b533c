"""Splitting an AT command line into the commands it chains, as V.250 and 27.007 define:
basic commands (`E0`, `V1`, `&F`, `S0=0`) run together, extended ones (`+CMGF=0`)
are separated by ';'. `ATE0+CMEE=1;+CMGF=0` is three commands."""

EXEC, READ, TEST, SET = "exec", "read", "test", "set"


class Command:
    __slots__ = ("name", "op", "args")

    def __init__(self, name, op, args=""):
        self.name = name  # upper case: 'E', '&F', 'S0', '+CMGS'
        self.op = op  # EXEC (AT+X), READ (AT+X?), TEST (AT+X=?), SET (AT+X=args, ATE1)
        self.args = args

    def __repr__(self):
        return "Command(%r, %r, %r)" % (self.name, self.op, self.args)


def split(body):
    """'E0+CMEE=1;+CMGF=0' (the line after 'AT') -> [Command, ...]; ValueError if malformed."""
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c in " ;":
            i += 1
        elif c in "+^$#":
            i = _extended(body, i, out)
        elif c.upper() == "D":
            out.append(Command("D", SET, body[i + 1 :]))  # a dial string runs to the end
            i = len(body)
        else:
            i = _basic(body, i, out)
    return out


def _extended(body, i, out):
    j = i + 1
    while j < len(body) and (body[j].isalnum() or body[j] == "_"):
        j += 1
    name = body[i:j].upper()
    if j == i + 1:
        raise ValueError("empty extended command name at %d" % i)
    rest = body[j:]
    if rest.startswith("=?"):
        out.append(Command(name, TEST))
        return j + 2
    if rest.startswith("?"):
        out.append(Command(name, READ))
        return j + 1
    if rest.startswith("="):
        end = _end_of_args(body, j + 1)
        out.append(Command(name, SET, body[j + 1 : end]))
        return end
    out.append(Command(name, EXEC))
    return j


def _end_of_args(body, i):
    quoted = False
    while i < len(body):
        if body[i] == '"':
            quoted = not quoted
        elif body[i] == ";" and not quoted:
            return i
        i += 1
    return i


def _basic(body, i, out):
    c = body[i].upper()
    j = i + 1
    if c == "&":
        if j >= len(body):
            raise ValueError("'&' without a command")
        c = "&" + body[j].upper()
        j += 1
    elif c == "S" and j < len(body) and body[j].isdigit():
        while j < len(body) and body[j].isdigit():
            j += 1
        name = body[i:j].upper()
        if body[j : j + 1] == "?":
            out.append(Command(name, READ))
            return j + 1
        if body[j : j + 1] == "=":
            k = j + 1
            while k < len(body) and body[k].isdigit():
                k += 1
            out.append(Command(name, SET, body[j + 1 : k]))
            return k
        raise ValueError("S-register %s without '?' or '='" % name)
    elif not c.isalpha():
        raise ValueError("unexpected %r at %d" % (body[i], i))
    k = j
    while k < len(body) and body[k].isdigit():
        k += 1
    out.append(Command(c, SET, body[j:k]))
    return k


def fields(args):
    """'"SM",3,,"x,y"' -> ['SM', '3', '', 'x,y']: commas split outside quotes; quotes go."""
    out = []
    cur = []
    quoted = False
    for ch in args:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out
