"""Fixed-size memories: the newest entries are found, the oldest give way, and a dump
restores the same answers."""

from branchline.core.rings import Fingerprints, RecentCloses, RecentCustomers


def test_fingerprints_remember_the_last_ones_only():
    f = Fingerprints(3)
    for fp in ("m0:a", "m0:b", "m0:c"):
        f.add(fp)
    assert "m0:a" in f and "m0:c" in f and "m0:d" not in f
    f.add("m0:d")
    assert "m0:a" not in f and "m0:d" in f and "m0:b" in f
    assert len(f.data) == 24  # 8 bytes each, whatever the fingerprint's length


def test_a_fingerprint_is_not_found_across_two_slots():
    f = Fingerprints(2)
    f.add("m0:x")
    f.add("m0:y")
    key = Fingerprints.key("m0:z")
    f.data[4:12] = key  # as if the bytes of two slots spelt another fingerprint
    assert "m0:z" not in f


def test_recent_customers_give_the_newest_queue():
    r = RecentCustomers(3)
    r.remember("+447700900123", 1)
    r.remember("+8613800138000", 2)
    r.remember("+447700900123", 0)
    assert r.last_queue("+447700900123") == 0 and r.last_queue("+8613800138000") == 2
    assert r.last_queue("+1") is None
    r.remember("+2", 1)
    r.remember("+3", 1)  # the oldest two have given way
    assert r.last_queue("+8613800138000") is None and r.last_queue("+447700900123") == 0
    r.remember("+4", 2)
    assert r.last_queue("+447700900123") is None
    r.remember("x" * 21, 1)  # longer than any number: not remembered
    assert r.last_queue("x" * 21) is None and r.last_queue("+3") == 1


def test_a_dump_restores_the_same_answers():
    r = RecentCustomers(4)
    for i in range(6):
        r.remember("+%d" % i, i % 3)
    f = Fingerprints(4)
    for i in range(6):
        f.add("m0:%d" % i)
    r2, f2 = RecentCustomers(4), Fingerprints(4)
    r2.load(r.dump())
    f2.load(f.dump())
    assert [r2.last_queue("+%d" % i) for i in range(6)] == [None, None, 2, 0, 1, 2]
    assert [("m0:%d" % i) in f2 for i in range(6)] == [False, False, True, True, True, True]


def test_recent_closes_find_the_newest_by_key_and_forget_through_a_dump():
    r = RecentCloses(3)
    r.remember(0x0A0B0C0D, 1, 1000, 2, 0, 0, False)
    r.remember(0x01020304, 2, 2000, None, 1, 1, True)
    r.remember(0x0A0B0C0D, 3, 3000, 4, 2, 0, False)
    assert r.find(0x0A0B0C0D) == (3, 3000, 4, 2, 0, False)
    assert r.find(0x01020304) == (2, 2000, None, 1, 1, True)
    # A key spelt across two entries' keys is no entry's.
    assert r.find(0x0D010203) is None and r.find(0x05060708) is None
    copy = RecentCloses(3)
    copy.load(r.dump())  # the keys' copy is made again from the entries
    assert copy.find(0x0A0B0C0D) == (3, 3000, 4, 2, 0, False)
    copy.forget(0x0A0B0C0D)
    assert copy.find(0x0A0B0C0D) is None and copy.find(0x01020304) is not None
    copy.remember(0x0E0E0E0E, 4, 4000, 1, 0, 0, False)  # the oldest gives way
    assert copy.find(0x01020304) is not None and copy.find(0x0E0E0E0E)[0] == 4
    copy.remember(0x0F0F0F0F, 5, 5000, 1, 0, 0, False)
    assert copy.find(0x01020304) is None
