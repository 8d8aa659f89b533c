"""The events the panel codec (proto/panel.py) reports: what a panel says (Button,
Hello) and, on the panel's side, what the gateway asks of it (Led)."""


class Button:
    """A button on `desk` changed: `pressed` True on press, False on release."""

    __slots__ = ("desk", "button", "pressed")

    def __init__(self, desk, button, pressed):
        self.desk = desk
        self.button = button
        self.pressed = pressed

    def __repr__(self):
        return "Button(%d, %s, %s)" % (self.desk, self.button, self.pressed)


class Hello:
    """The panel (re)booted: it has `desks` desks and runs firmware `version`."""

    __slots__ = ("desks", "version")

    def __init__(self, desks, version):
        self.desks = desks
        self.version = version


class Led:
    """An LED command, as the panel side decodes it."""

    __slots__ = ("desk", "state")

    def __init__(self, desk, state):
        self.desk = desk
        self.state = state
