"""A stand-in for MicroPython's `network` on the unix port, for tests only: a Wi-Fi
station that is always connected (the unix port reaches the broker over loopback)."""

STA_IF = 0
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010


class WLAN:
    def __init__(self, interface=STA_IF):
        self._active = False

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = on

    def connect(self, ssid=None, password=None):
        pass

    def disconnect(self):
        pass

    def isconnected(self):
        return True

    def status(self, *args):
        return STAT_GOT_IP

    def config(self, *args, **kwargs):
        return None
