"""Signed session cookies and the CSRF token that goes with each.

A cookie is `<user>:<expires s>:<nonce>:<mac>`: the MAC (HMAC-SHA256 under the
appliance's secret, kept in its state) covers the user, the expiry, the nonce and the
user's password hash, so a cookie outlives neither its shift (console.session_h) nor
a password change, and survives a restart of the appliance (nothing is stored per
session). Logging out revokes the nonce until the cookie would have expired anyway,
for up to console.remembered_logouts cookies (in memory: after a restart, or past that
many logouts in a shift, a logged-out cookie still dies at its expiry).

The CSRF token is a second MAC of the nonce: a page learns it from /api/me and sends
it in X-CSRF-Token with every change; another site can neither read it nor make it.
"""

import binascii

from branchline import sign
from branchline.text import is_digits

NONCE_BYTES = 12


def _hex(data):
    return binascii.hexlify(data).decode()


class Sessions:
    def __init__(self, secret, hours, random_bytes, max_revoked):
        """`random_bytes(n)`: the runtime's cryptographic random source (os.urandom)."""
        self._keys = sign.pads(secret)
        self._random = random_bytes
        self.max_revoked = max_revoked
        self.lifetime_s = hours * 3600
        self._revoked = {}  # nonce -> expiry (s)

    def _mac(self, user, expires, nonce, password_hash):
        text = "%s:%d:%s:%s" % (user, expires, nonce, password_hash)
        return _hex(sign.mac_with(self._keys, text.encode()))[:32]

    def issue(self, account, now_ms):
        """A new cookie value for `account`."""
        expires = now_ms // 1000 + self.lifetime_s
        nonce = _hex(self._random(NONCE_BYTES))
        return "%s:%d:%s:%s" % (account.user, expires, nonce,
                                self._mac(account.user, expires, nonce, account.password))

    def account(self, cookie, accounts, now_ms):
        """The account a cookie stands for, or None (forged, expired, revoked, or the
        password changed since)."""
        parts = cookie.split(":") if cookie else ()
        if len(parts) != 4 or not is_digits(parts[1]) or len(parts[1]) > 12:
            return None
        user, expires, nonce, mac = parts[0], int(parts[1]), parts[2], parts[3]
        account = accounts.get(user)
        if account is None or expires <= now_ms // 1000 or nonce in self._revoked:
            return None
        if not sign.same(mac, self._mac(user, expires, nonce, account.password)):
            return None
        return account

    def csrf(self, cookie):
        nonce = cookie.split(":")[2]
        return _hex(sign.mac_with(self._keys, ("csrf:" + nonce).encode()))[:32]

    def revoke(self, cookie, now_ms):
        parts = cookie.split(":")
        now_s = now_ms // 1000
        for nonce in [n for n, exp in self._revoked.items() if exp <= now_s]:
            del self._revoked[nonce]
        if len(self._revoked) >= self.max_revoked:
            del self._revoked[min(self._revoked, key=self._revoked.get)]
        self._revoked[parts[2]] = int(parts[1])
