"""Head-office MQTT topics and the payloads the adapters publish outside the core.

Topics are versioned: bl/v1/<site>/<device>/<kind>. Schemas: docs/mqtt.md.
"""

from branchline.core import jsonfmt

VERSION = "v1"


def topic(site, device, kind):
    for part, what in ((site, "site"), (device, "device")):
        if not part or "/" in part or "+" in part or "#" in part:
            raise ValueError("%s %r cannot be a topic level" % (what, part))
    return "bl/%s/%s/%s/%s" % (VERSION, site, device, kind)


def status(online, now_ms, modems=None):
    """The retained status; `modems` maps modem id -> its last health poll."""
    doc = {"state": "online" if online else "offline", "ts": now_ms}
    if modems:
        doc["modems"] = modems
    return jsonfmt.encode(doc)


def birth(firmware, config_version, boot_count, now_ms):
    return jsonfmt.encode(
        {
            "firmware": firmware,
            "config_version": config_version,
            "boot": boot_count,
            "ts": now_ms,
        }
    )


def encode(payload):
    return jsonfmt.encode(payload)
