"""Who may log in to the console: the users of the configuration (console.users), the
passwords and languages they changed since, and the counts that throttle guessing.

A user changes the password the configuration gave (at once, when it says
must_change); the new hash is kept in the appliance's state (`dump`/`load`, written
by the adapter) and holds while the configuration still gives the old one, so a new
password pushed by head office wins again. Guessing is throttled twice: an account
locks for `lockout_s` after `lockout_after` failures in a row, and one client address
may fail `ADDRESS_TRIES` times a minute whatever names it tries.
"""

from branchline import passwords

ADDRESS_TRIES = 10
ADDRESS_WINDOW_MS = 60000
MAX_ADDRESSES = 64  # client addresses tracked at once (the oldest window goes first)
MIN_PASSWORD = 8


class Account:
    """One user as the console sees them; `password` is the hash in force."""

    __slots__ = ("user", "name", "role", "desk", "password", "must_change", "lang")

    def __init__(self, doc, saved):
        self.user = doc["user"]
        self.name = doc.get("name", doc["user"])
        self.role = doc["role"]
        self.desk = doc.get("desk")
        self.password = doc["password"]
        self.must_change = doc.get("must_change", False)
        self.lang = saved.get("lang", doc.get("lang", "en"))
        if saved.get("replaces") == doc["password"] and "password" in saved:
            self.password = saved["password"]
            self.must_change = False

    def public(self):
        return {"user": self.user, "name": self.name, "role": self.role, "desk": self.desk,
                "lang": self.lang, "must_change": self.must_change}


class Accounts:
    def __init__(self, console_cfg, saved=None):
        saved = saved or {}
        self.lockout_after = console_cfg["lockout_after"]
        self.lockout_ms = console_cfg["lockout_s"] * 1000
        self._config_hash = {}
        self.by_user = {}
        for doc in console_cfg["users"]:
            self.by_user[doc["user"]] = Account(doc, saved.get(doc["user"], {}))
            self._config_hash[doc["user"]] = doc["password"]
        self._saved = {}
        for user in self.by_user:
            if user in saved:
                self._saved[user] = saved[user]
        self._failures = {}  # user -> [failures in a row, locked until (ms)]
        self._addresses = {}  # client address -> [window start (ms), tries in it]

    def get(self, user):
        return self.by_user.get(user)

    def dump(self):
        """What to keep across restarts: {user: {"replaces", "password", "lang"}}."""
        return self._saved

    # -- logging in ----------------------------------------------------------------
    def refusal(self, user, address, now):
        """Why a login try must not even be checked now (None: check it)."""
        window = self._addresses.get(address)
        if window is not None and now - window[0] < ADDRESS_WINDOW_MS and (
                window[1] >= ADDRESS_TRIES):
            return "too many failed logins from this address: wait a minute"
        failed = self._failures.get(user)
        if failed is not None and failed[1] > now:
            return "account locked after %d failed logins: try again in %d s" % (
                failed[0], (failed[1] - now + 999) // 1000)
        return None

    def outcome(self, user, address, ok, now):
        """Count a checked try. -> True when this failure locked the account."""
        if ok:
            self._failures.pop(user, None)
            return False
        window = self._addresses.get(address)
        if window is None or now - window[0] >= ADDRESS_WINDOW_MS:
            if window is None and len(self._addresses) >= MAX_ADDRESSES:
                oldest = min(self._addresses, key=lambda a: self._addresses[a][0])
                del self._addresses[oldest]
            window = self._addresses[address] = [now, 0]
        window[1] += 1
        if user not in self.by_user:
            return False  # nobody to lock; the address window still limits guessing
        failed = self._failures.setdefault(user, [0, 0])
        failed[0] += 1
        if failed[0] >= self.lockout_after:
            failed[1] = now + self.lockout_ms
            return failed[0] == self.lockout_after
        return False

    # -- what a user changes -------------------------------------------------------
    def new_password_problem(self, account, password):
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            return "a password needs %d characters or more" % MIN_PASSWORD
        if password == account.user:
            return "a password must not be the user name"
        if len(password) > 256:
            return "a password of at most 256 characters"
        return None

    def set_password(self, account, new_hash):
        entry = self._saved.setdefault(account.user, {})
        entry["replaces"] = self._config_hash[account.user]
        entry["password"] = new_hash
        account.password = new_hash
        account.must_change = False

    def set_lang(self, account, lang):
        self._saved.setdefault(account.user, {})["lang"] = lang
        account.lang = lang

