"""What head office gets over MQTT 3.1.1, whatever the client library (paho-mqtt on
CPython, mqtt_as on MicroPython): docs/mqtt.md.

Data messages come from the core's uplink outbox and are published at QoS 1; the
broker's PUBACK becomes an `uplink_ack` event (on_ack(seq)), and only then does the
core drop the message. Whatever is unacknowledged at a disconnect is published again at
the next connect (head office drops duplicates by the payload's `id`). Each connect
publishes the retained status (online, with the modems' last health) and a birth; the
last will says offline.

A client subclasses UplinkBase with start(), stop() (async) and send(seq, message),
and calls connected(), disconnected(reason) and acked(seq).
"""

from branchline import __version__
from branchline.proto import uplink


class UplinkBase:
    def __init__(self, cfg, site, device, on_ack, log, clock, boot_count, config_version):
        self.cfg = cfg
        self.site = site
        self.device = device
        self.on_ack = on_ack
        self.log = log
        self.clock = clock
        self.boot_count = boot_count
        self.config_version = config_version
        self.is_connected = False
        self.stopping = False
        self.pending = {}  # seq -> (topic, payload): all unacknowledged data messages
        self._health = {}  # modem id -> last health poll, carried in the retained status

    @property
    def client_id(self):
        return "bl-%s-%s" % (self.site, self.device)

    @property
    def host(self):
        return self.cfg.get("host", "127.0.0.1")

    @property
    def port(self):
        return int(self.cfg.get("port", 1883))

    @property
    def keepalive(self):
        return int(self.cfg.get("keepalive", 30))

    def topic(self, kind):
        return uplink.topic(self.site, self.device, kind)

    def will(self):
        """(topic, payload) of the last will: retained, QoS 1."""
        return self.topic("status"), uplink.status(False, 0)

    def status(self, online):
        """(topic, payload) of the retained status now."""
        return self.topic("status"), uplink.status(online, self.clock(),
                                                   self._health if online else None)

    def birth(self):
        return self.topic("birth"), uplink.birth(__version__, self.config_version,
                                                 self.boot_count, self.clock())

    def publish(self, seq, kind, payload):
        """Queue a data message; it goes out now if connected, else at the next connect."""
        message = (self.topic(kind), uplink.encode(payload))
        self.pending[seq] = message
        if self.is_connected:
            self.send(seq, message)

    def set_health(self, modem_id, health):
        """A modem's health changed: head office sees it in the retained status."""
        if self._health.get(modem_id) != health:
            self._health[modem_id] = health
            if self.is_connected:
                self.send_status()

    def connected(self):
        """The client is connected (again): status, birth, then everything pending in
        order (the client's send_status and send_birth do the first two)."""
        self.is_connected = True
        self.log.info("mqtt_connected", host=self.cfg.get("host"), port=self.cfg.get("port"))
        self.send_status()
        self.send_birth()
        for seq in sorted(self.pending):
            self.send(seq, self.pending[seq])

    def disconnected(self, reason):
        if self.is_connected and not self.stopping:
            self.log.warn("mqtt_disconnected", reason=reason)
        self.is_connected = False

    def acked(self, seq):
        """The broker has data message `seq`."""
        if self.pending.pop(seq, None) is not None:
            self.on_ack(seq)
