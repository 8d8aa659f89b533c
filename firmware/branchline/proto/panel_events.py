"""The events the panel codec (proto/panel.py) decodes: the gateway's poll (as a panel
reads it) and a panel's answers (as the gateway reads them)."""


class Poll:
    """The gateway asks `desk`'s panel for news, telling it what to show: `led`, the
    buzzer for `buzz_ms` (0: quiet), and `ack`, the last press it has (None: none known)."""

    __slots__ = ("desk", "led", "buzz_ms", "ack")

    def __init__(self, desk, led, buzz_ms, ack):
        self.desk = desk
        self.led = led
        self.buzz_ms = buzz_ms
        self.ack = ack


class Status:
    """A panel's answer: press number `seq` of `button` (0 and None: nothing new)."""

    __slots__ = ("desk", "seq", "button")

    def __init__(self, desk, seq, button):
        self.desk = desk
        self.seq = seq
        self.button = button

    def __repr__(self):
        return "Status(%d, %d, %s)" % (self.desk, self.seq, self.button)


class Hello:
    """The panel of `desk` started, running `firmware`."""

    __slots__ = ("desk", "firmware")

    def __init__(self, desk, firmware):
        self.desk = desk
        self.firmware = firmware


# What the gateway's bus master (proto/panel_bus.py) makes of them.
class Pressed:
    """Press number `press` of `button` on `desk`'s panel (each once, however often
    the panel sent it)."""

    __slots__ = ("desk", "button", "press")

    def __init__(self, desk, button, press):
        self.desk = desk
        self.button = button
        self.press = press


class PanelUp:
    """`desk`'s panel answers (again): `firmware` when it said (HELLO), else None.
    `back`: it had been lost."""

    __slots__ = ("desk", "firmware", "back")

    def __init__(self, desk, firmware, back):
        self.desk = desk
        self.firmware = firmware
        self.back = back


class PanelLost:
    """`desk`'s panel stopped answering."""

    __slots__ = ("desk",)

    def __init__(self, desk):
        self.desk = desk
