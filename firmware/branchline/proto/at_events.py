"""The events the AT engine (proto/at.py) reports through next_event()."""


class Response:
    """The end of a command: `ok`, the information `lines`, and for errors a `reason`."""

    __slots__ = ("command", "lines", "ok", "reason", "code")

    def __init__(self, command, lines, ok, reason=None, code=None):
        self.command = command
        self.lines = lines
        self.ok = ok
        self.reason = reason
        self.code = code

    def __repr__(self):
        return "Response(%r, ok=%r, lines=%r, reason=%r)" % (
            self.command.text,
            self.ok,
            self.lines,
            self.reason,
        )


class Urc:
    """An unsolicited code: `name` ('+CMTI'), `args` (text after the colon), `pdu` if any."""

    __slots__ = ("name", "args", "pdu")

    def __init__(self, name, args, pdu=None):
        self.name = name
        self.args = args
        self.pdu = pdu

    def __repr__(self):
        return "Urc(%r, %r)" % (self.name, self.args)


class Noise:
    """A line that answers nothing we asked (vendor chatter, garbage); logged and skipped."""

    __slots__ = ("line",)

    def __init__(self, line):
        self.line = line

    def __repr__(self):
        return "Noise(%r)" % self.line
