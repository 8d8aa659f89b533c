"""HMAC-SHA256 on both runtimes (MicroPython has hashlib.sha256 but no hmac module) and
a comparison whose time does not depend on where two secrets first differ."""

import hashlib

BLOCK = 64  # SHA-256's block size in bytes (RFC 2104's B)

_IPAD = bytes([0x36] * BLOCK)
_OPAD = bytes([0x5C] * BLOCK)


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def pads(key):
    """The inner and outer padded keys of `key` (bytes), for many MACs under one key."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + bytes(BLOCK - len(key))
    return _xor(key, _IPAD), _xor(key, _OPAD)


def mac_with(padded, message):
    """HMAC-SHA256 of `message` (bytes) under the keys pads() made -> 32 bytes."""
    inner = hashlib.sha256(padded[0])
    inner.update(message)
    outer = hashlib.sha256(padded[1])
    outer.update(inner.digest())
    return outer.digest()


def mac(key, message):
    """HMAC-SHA256 (RFC 2104) -> 32 bytes."""
    return mac_with(pads(key), message)


def same(a, b):
    """a == b for bytes or str, in time that depends only on their lengths."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0
