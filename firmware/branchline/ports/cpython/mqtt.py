"""Head-office link over MQTT 3.1.1 with paho-mqtt.

Data messages come from the core's uplink outbox and are published at QoS 1; the
broker's PUBACK becomes an `uplink_ack` event, and only then does the core drop the
message. Whatever is unacknowledged at a disconnect is published again at the next
connect (head office drops duplicates by the payload's `id`).
"""

import paho.mqtt.client as paho

from branchline import __version__
from branchline.proto import uplink


class Uplink:
    def __init__(self, cfg, site, device, loop, on_ack, log, clock, boot_count, config_version):
        self.cfg = cfg
        self.site = site
        self.device = device
        self.loop = loop
        self.on_ack = on_ack  # called in the event loop with the outbox seq
        self.log = log
        self.clock = clock
        self.boot_count = boot_count
        self.config_version = config_version
        self.connected = False
        self._stopping = False
        self._pending = {}  # seq -> (topic, payload): all unacknowledged data messages
        self._mid_to_seq = {}
        self._health = {}  # modem id -> last health poll, carried in the retained status
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id="bl-%s-%s" % (site, device),
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        self.client.will_set(
            self.topic("status"), uplink.status(False, 0), qos=1, retain=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def topic(self, kind):
        return uplink.topic(self.site, self.device, kind)

    def start(self):
        self.client.connect_async(
            self.cfg.get("host", "127.0.0.1"),
            int(self.cfg.get("port", 1883)),
            keepalive=int(self.cfg.get("keepalive", 30)),
        )
        self.client.loop_start()

    def stop(self):
        self._stopping = True
        if self.connected:
            info = self.client.publish(
                self.topic("status"), uplink.status(False, self.clock()), qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, seq, kind, payload):
        """Queue a data message; it goes out now if connected, else at the next connect."""
        message = (self.topic(kind), uplink.encode(payload))
        self._pending[seq] = message
        if self.connected:
            self._send(seq, message)

    # Everything below the paho callbacks runs on the event loop's thread: paho calls
    # back from its network thread while holding its own locks, so the callbacks only
    # hand over to the loop (holding a lock of ours there too could deadlock).
    def _send(self, seq, message):
        info = self.client.publish(message[0], message[1], qos=1)
        if info.rc == paho.MQTT_ERR_SUCCESS:
            self._mid_to_seq[info.mid] = seq
        # else: not connected after all; everything pending is resent at the next connect

    def _connected(self):
        self.connected = True
        self.log.info("mqtt_connected", host=self.cfg.get("host"), port=self.cfg.get("port"))
        now = self.clock()
        self._publish_status()
        self.client.publish(
            self.topic("birth"),
            uplink.birth(__version__, self.config_version, self.boot_count, now),
            qos=1,
        )
        self._mid_to_seq.clear()
        for seq, message in sorted(self._pending.items()):
            self._send(seq, message)

    def set_health(self, modem_id, health):
        """A modem's health changed: head office sees it in the retained status."""
        if self._health.get(modem_id) != health:
            self._health[modem_id] = health
            if self.connected:
                self._publish_status()

    def _publish_status(self):
        self.client.publish(
            self.topic("status"),
            uplink.status(True, self.clock(), self._health),
            qos=1,
            retain=True,
        )

    def _disconnected(self, reason):
        if self.connected and not self._stopping:
            self.log.warn("mqtt_disconnected", reason=reason)
        self.connected = False

    def _puback(self, mid):
        # publish() returned (and recorded the mid) before this callback could run: it
        # was scheduled from paho's thread onto this loop, behind the publishing code.
        seq = self._mid_to_seq.pop(mid, None)
        if seq is not None and self._pending.pop(seq, None) is not None:
            self.on_ack(seq)

    # -- paho callbacks (paho's network thread) ------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            reason = str(reason_code)
            self.loop.call_soon_threadsafe(lambda: self.log.warn("mqtt_refused", reason=reason))
            return
        self.loop.call_soon_threadsafe(self._connected)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.loop.call_soon_threadsafe(self._disconnected, str(reason_code))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self.loop.call_soon_threadsafe(self._puback, mid)
