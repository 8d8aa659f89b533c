"""The head-office link on MicroPython: appliance/uplink.py's bookkeeping over mqtt_as
(micropython-mqtt), an asyncio client that pings at a quarter of the keepalive, waits
for each QoS 1 PUBACK and retransmits without one, and reconnects without blocking the
loop (umqtt.robust does none of these).

One sender task publishes the pending data messages in seq order, each awaited to its
PUBACK; a lost link makes mqtt_as wait for the reconnect and publish again, and the
connect handler sends status and birth first. Wi-Fi comes from the configuration's
`wifi` section (`network.WLAN`); a first connection that fails is retried every
RETRY_S seconds until it succeeds, after which mqtt_as keeps the link up itself.
"""

import asyncio

from mqtt_as import MQTTClient
from mqtt_as import config as mqtt_defaults

from branchline.appliance.uplink import UplinkBase

RETRY_S = 5
STOP_TIMEOUT_S = 2


class Uplink(UplinkBase):
    def __init__(self, cfg, wifi, site, device, on_ack, log, clock, boot_count,
                 config_version):
        UplinkBase.__init__(self, cfg, site, device, on_ack, log, clock, boot_count,
                            config_version)
        options = dict(mqtt_defaults)
        topic, payload = self.will()
        options.update({
            "client_id": self.client_id, "server": self.host, "port": self.port,
            "keepalive": self.keepalive, "clean": True, "clean_init": True,
            "will": (topic, payload, True, 1), "queue_len": 0,
            "ssid": wifi.get("ssid"), "wifi_pw": wifi.get("password"),
            "subs_cb": lambda topic, msg, retained: None,
            "connect_coro": self._on_connect, "wifi_coro": self._on_wifi,
        })
        self.client = MQTTClient(options)
        self._wake = asyncio.Event()
        self._connecting = None
        self.sender = None  # the task publishing the data messages

    def start(self):
        self._connecting = asyncio.create_task(self._first_connect())
        self.sender = asyncio.create_task(self._sender())

    async def _first_connect(self):
        while not self.stopping:
            try:
                await self.client.connect(quick=True)
                return
            except OSError as e:
                self.log.warn("mqtt_connect_failed", host=self.host, reason=str(e))
                await asyncio.sleep(RETRY_S)

    async def _on_connect(self, client):
        self.connected()

    async def _on_wifi(self, up):
        if not up:
            self.disconnected("network down")

    def send(self, seq, message):
        self._wake.set()

    def send_status(self):
        topic, payload = self.status(True)
        asyncio.create_task(self._publish(topic, payload, True))

    def send_birth(self):
        topic, payload = self.birth()
        asyncio.create_task(self._publish(topic, payload, False))

    async def _publish(self, topic, payload, retain):
        try:
            await self.client.publish(topic, payload, retain, 1)
        except OSError as e:
            self.log.warn("mqtt_publish_failed", topic=topic, reason=str(e))

    async def _sender(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.is_connected and self.pending:
                seq = min(self.pending)
                topic, payload = self.pending[seq]
                try:
                    await self.client.publish(topic, payload, False, 1)
                except OSError as e:
                    self.log.warn("mqtt_publish_failed", topic=topic, reason=str(e))
                    break
                self.acked(seq)

    async def stop(self):
        self.stopping = True
        if self.is_connected:
            topic, payload = self.status(False)
            try:
                await asyncio.wait_for(self.client.publish(topic, payload, True, 1),
                                       STOP_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError):
                pass
        for task in (self._connecting, self.sender):
            task.cancel()
        try:
            await self.client.disconnect()
        except OSError:
            pass
        self.client.close()
