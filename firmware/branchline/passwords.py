"""Password hashes: PBKDF2-HMAC-SHA256 (RFC 8018), the iterated hash both runtimes have.

A hash is the text `pbkdf2-sha256$<iterations>$<salt hex>$<derived key hex>`, so each
one carries its own cost: a Raspberry Pi checks 100,000 iterations in a fraction of a
second with hashlib's C code, while an ESP32 (pure Python below, a few hundred
microseconds per iteration) is provisioned with fewer. CPython uses
hashlib.pbkdf2_hmac; MicroPython the loop here, which gives the same bytes.
"""

import binascii
import hashlib
import os

from branchline import sign

SCHEME = "pbkdf2-sha256"
DEFAULT_ITERATIONS = 100000
MIN_ITERATIONS = 1000  # below this a stolen hash falls to a laptop in minutes
SALT_BYTES = 16
KEY_BYTES = 32


class HashFormatError(ValueError):
    pass


def _derive_portable(password, salt, iterations):
    padded = sign.pads(password)
    u = sign.mac_with(padded, salt + b"\x00\x00\x00\x01")  # one block: KEY_BYTES == 32
    out = bytearray(u)
    for _ in range(iterations - 1):
        u = sign.mac_with(padded, u)
        for i in range(KEY_BYTES):
            out[i] ^= u[i]
    return bytes(out)


def derive(password, salt, iterations):
    """The PBKDF2-HMAC-SHA256 key of `password` (str) -> 32 bytes."""
    secret = password.encode()
    fast = getattr(hashlib, "pbkdf2_hmac", None)
    if fast is not None:
        return fast("sha256", secret, salt, iterations, KEY_BYTES)
    return _derive_portable(secret, salt, iterations)


def make(password, iterations=DEFAULT_ITERATIONS, salt=None):
    """A new hash of `password` (a fresh random salt unless one is given)."""
    if salt is None:
        salt = os.urandom(SALT_BYTES)
    key = derive(password, salt, iterations)
    return "%s$%d$%s$%s" % (SCHEME, iterations, binascii.hexlify(salt).decode(),
                            binascii.hexlify(key).decode())


def parse(text):
    """-> (iterations, salt, key); HashFormatError naming what is wrong."""
    parts = text.split("$") if isinstance(text, str) else ()
    if len(parts) != 4 or parts[0] != SCHEME:
        raise HashFormatError("not a %s$<iterations>$<salt>$<key> hash" % SCHEME)
    digits = parts[1]
    if not digits or len(digits) > 9 or any(c not in "0123456789" for c in digits):
        raise HashFormatError("iterations must be a number")
    iterations = int(digits)
    if iterations < MIN_ITERATIONS:
        raise HashFormatError("at least %d iterations" % MIN_ITERATIONS)
    try:
        salt = binascii.unhexlify(parts[2])
        key = binascii.unhexlify(parts[3])
    except (ValueError, TypeError):
        raise HashFormatError("salt and key must be hex")
    if len(salt) < 8 or len(key) != KEY_BYTES:
        raise HashFormatError("salt of 8 bytes or more and a %d-byte key" % KEY_BYTES)
    return iterations, salt, key


def verify(password, text):
    """Does `password` match the hash `text`? (A malformed hash matches nothing.)"""
    try:
        iterations, salt, key = parse(text)
    except HashFormatError:
        return False
    return sign.same(derive(password, salt, iterations), key)
