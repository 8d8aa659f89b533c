"""Head-office link over MQTT 3.1.1 with paho-mqtt: appliance/uplink.py's bookkeeping
(what is published, pending and acknowledged) over paho's network thread.

Everything below the paho callbacks runs on the event loop's thread: paho calls back
from its network thread while holding its own locks, so the callbacks only hand over to
the loop (holding a lock of ours there too could deadlock).
"""

import paho.mqtt.client as paho

from branchline.appliance.uplink import UplinkBase


class Uplink(UplinkBase):
    def __init__(self, cfg, site, device, loop, on_ack, log, clock, boot_count, config_version):
        UplinkBase.__init__(self, cfg, site, device, on_ack, log, clock, boot_count,
                            config_version)
        self.loop = loop
        self._mid_to_seq = {}
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        topic, payload = self.will()
        self.client.will_set(topic, payload, qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def start(self):
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()

    async def stop(self):
        self.stopping = True
        if self.is_connected:
            topic, payload = self.status(False)
            info = self.client.publish(topic, payload, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, seq, message):
        info = self.client.publish(message[0], message[1], qos=1)
        if info.rc == paho.MQTT_ERR_SUCCESS:
            self._mid_to_seq[info.mid] = seq
        # else: not connected after all; everything pending is resent at the next connect

    def send_status(self):
        topic, payload = self.status(True)
        self.client.publish(topic, payload, qos=1, retain=True)

    def send_birth(self):
        topic, payload = self.birth()
        self.client.publish(topic, payload, qos=1)

    def _connected(self):
        self._mid_to_seq.clear()
        self.connected()

    def _puback(self, mid):
        # publish() returned (and recorded the mid) before this callback could run: it
        # was scheduled from paho's thread onto this loop, behind the publishing code.
        seq = self._mid_to_seq.pop(mid, None)
        if seq is not None:
            self.acked(seq)

    # -- paho callbacks (paho's network thread) ------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            reason = str(reason_code)
            self.loop.call_soon_threadsafe(lambda: self.log.warn("mqtt_refused", reason=reason))
            return
        self.loop.call_soon_threadsafe(self._connected)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.loop.call_soon_threadsafe(self.disconnected, str(reason_code))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self.loop.call_soon_threadsafe(self._puback, mid)
