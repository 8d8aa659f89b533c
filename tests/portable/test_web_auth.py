"""The console's safety on every runtime: HMAC-SHA256 and PBKDF2 to their published
test vectors (the pure-Python loop an ESP32 runs, and whichever the runtime uses),
password hashes, lockout and throttling, and signed session cookies."""

import binascii

from check import counter_bytes, raises

from branchline import passwords, sign
from branchline.core import config
from branchline.web.accounts import ADDRESS_TRIES, Accounts
from branchline.web.sessions import Sessions

HOUR_MS = 3600000


def unhex(text):
    return binascii.unhexlify(text)


def test_hmac_sha256_matches_rfc_4231():
    assert sign.mac(b"Jefe", b"what do ya want for nothing?") == unhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    # Case 6: a key longer than the block is hashed first.
    assert sign.mac(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First") \
        == unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_pbkdf2_matches_the_published_vectors_in_both_implementations():
    for iterations, key in ((1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
                            (2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
                            (4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")):
        assert passwords._derive_portable(b"password", b"salt", iterations) == unhex(key)
        assert passwords.derive("password", b"salt", iterations) == unhex(key)


def test_a_hash_verifies_its_password_only():
    text = passwords.make("correct horse", iterations=1000, salt=b"0123456789abcdef")
    assert text.startswith("pbkdf2-sha256$1000$30313233")
    assert passwords.verify("correct horse", text)
    assert not passwords.verify("correct hors", text)
    assert not passwords.verify("correct horse", "plain-text")


def test_malformed_or_weak_hashes_are_refused_with_the_reason():
    for text, reason in (("md5$1$aa$bb", "not a pbkdf2-sha256"),
                         ("pbkdf2-sha256$10$00112233445566778899$" + "00" * 32, "at least 1000"),
                         ("pbkdf2-sha256$١٠٠٠$0011223344556677$" + "00" * 32, "a number"),
                         ("pbkdf2-sha256$1000$zz$" + "00" * 32, "hex"),
                         ("pbkdf2-sha256$1000$0011$" + "00" * 32, "8 bytes")):
        with raises(passwords.HashFormatError, reason):
            passwords.parse(text)


HASH = passwords.make("first-pass", iterations=1000, salt=b"saltsaltsalt")
BASE = {
    "site": "s1", "device": "d1", "modems": [],
    "queues": [{"name": "general"}],
    "desks": [{"desk": 1, "cap": 2, "queues": ["general"]},
              {"desk": 2, "cap": 1, "queues": ["general"]}],
}


def cfg_with(users, **console):
    doc = dict(BASE)
    console = dict(console)
    console["users"] = users
    doc["console"] = console
    return config.validate(doc)


def agent(user="ana", desk=1, **extra):
    doc = {"user": user, "role": "agent", "desk": desk, "password": HASH}
    doc.update(extra)
    return doc


def test_the_users_config_is_checked_key_by_key():
    for users, reason in (
            ([agent(desk=3)], "console.users[0].desk: no desk 3"),
            ([agent(), agent()], "console.users[1].user: 'ana' is listed twice"),
            ([dict(agent(), role="boss")], "console.users[0].role: must be one of"),
            ([{"user": "s", "role": "supervisor", "desk": 1, "password": HASH}],
             "only an agent sits at a desk"),
            ([dict(agent(), password="secret")], "console.users[0].password: not a"),
            ([dict(agent(), lang="fr")], "console.users[0].lang"),
            ([dict(agent(), pasword=HASH)], "did you mean password?")):
        with raises(config.ConfigError, reason):
            cfg_with(users)
    cfg = cfg_with([agent()])
    assert cfg["console"]["lockout_after"] == 5 and cfg["console"]["port"] == 8080


def test_an_account_locks_after_failures_in_a_row_and_unlocks_after_the_lockout():
    accounts = Accounts(cfg_with([agent()], lockout_after=3, lockout_s=60)["console"])
    now = 1000
    for i in range(2):
        assert accounts.refusal("ana", "10.0.0.%d" % i, now) is None
        assert not accounts.outcome("ana", "10.0.0.%d" % i, False, now)
    assert accounts.outcome("ana", "10.0.0.3", False, now)  # the third: locked now
    refusal = accounts.refusal("ana", "10.0.0.9", now + 1000)
    assert refusal == "account locked after 3 failed logins: try again in 59 s", refusal
    assert accounts.refusal("ana", "10.0.0.9", now + 61000) is None
    accounts.outcome("ana", "10.0.0.9", True, now + 61000)
    assert accounts.refusal("ana", "10.0.0.9", now + 62000) is None


def test_one_address_is_throttled_whatever_names_it_tries():
    accounts = Accounts(cfg_with([agent()])["console"])
    for i in range(30):  # logins that succeed cost nothing: a branch shares one NAT
        assert accounts.refusal("ana", "10.0.0.1", 5000) is None
        accounts.outcome("ana", "10.0.0.1", True, 5000)
    for i in range(ADDRESS_TRIES):
        assert accounts.refusal("user%d" % i, "10.0.0.1", 5000) is None
        accounts.outcome("user%d" % i, "10.0.0.1", False, 5000)
    assert "too many failed logins" in accounts.refusal("ana", "10.0.0.1", 5000)
    assert accounts.refusal("ana", "10.0.0.2", 5000) is None  # another address
    assert accounts.refusal("ana", "10.0.0.1", 65000) is None  # a minute later


def test_a_changed_password_holds_until_the_configuration_gives_a_new_one():
    cfg = cfg_with([agent(must_change=True)])["console"]
    accounts = Accounts(cfg)
    ana = accounts.get("ana")
    assert ana.must_change
    assert accounts.new_password_problem(ana, "short") == "a password needs 8 characters or more"
    assert accounts.new_password_problem(ana, "ana") is not None
    new = passwords.make("second-pass", iterations=1000, salt=b"pepperpepper")
    accounts.set_password(ana, new)
    saved = accounts.dump()
    again = Accounts(cfg, saved).get("ana")
    assert again.password == new and not again.must_change
    pushed = passwords.make("from-head-office", iterations=1000, salt=b"headofficesalt")
    cfg2 = cfg_with([agent(password=pushed)])["console"]
    assert Accounts(cfg2, saved).get("ana").password == pushed


def test_a_session_cookie_is_signed_and_dies_with_its_shift_or_password():
    accounts = Accounts(cfg_with([agent(), agent("bo", 2)])["console"])
    sessions = Sessions(b"k" * 32, 12, counter_bytes(), 64)
    now = 1796000000000
    cookie = sessions.issue(accounts.get("ana"), now)
    assert sessions.account(cookie, accounts, now + HOUR_MS).user == "ana"
    assert sessions.account(cookie, accounts, now + 12 * HOUR_MS) is None  # the shift ended
    user, expires, nonce, mac = cookie.split(":")
    for forged in ("bo:%s:%s:%s" % (expires, nonce, mac),
                   "ana:%d:%s:%s" % (int(expires) + 3600, nonce, mac),
                   "ana:%s:%s:%s" % (expires, nonce, "0" * 32), "garbage", ""):
        assert sessions.account(forged, accounts, now) is None, forged
    other = Sessions(b"x" * 32, 12, counter_bytes(), 64)
    assert other.account(cookie, accounts, now) is None  # another appliance's secret
    assert sessions.csrf(cookie) != sessions.csrf(sessions.issue(accounts.get("ana"), now))
    accounts.set_password(accounts.get("ana"), passwords.make("changed-pass", 1000, b"saltsalt"))
    assert sessions.account(cookie, accounts, now) is None


def test_a_logged_out_cookie_is_refused():
    accounts = Accounts(cfg_with([agent()])["console"])
    sessions = Sessions(b"k" * 32, 1, counter_bytes(), 1)
    cookie = sessions.issue(accounts.get("ana"), 0)
    kept = sessions.issue(accounts.get("ana"), 0)
    sessions.revoke(cookie, 1000)
    assert sessions.account(cookie, accounts, 2000) is None
    assert sessions.account(kept, accounts, 2000) is not None
