"""The twin's conversation record and its order (shared by the twin and its snapshot codec).

Portable. One Conv is one bl_conv of native/router.h, with the same fields.
"""

from branchline.router.codes import NONE, WAITING


class Conv:
    def __init__(self, cid, prio, key, seq):
        self.id = cid
        self.prio = prio
        self.key = key
        self.seq = seq
        self.t = 0
        self.agent = NONE
        self.queue = 0
        self.state = WAITING
        self.priv = 0


def before(x, y):
    """(key, seq) order: x is served before y."""
    return x.key < y.key or (x.key == y.key and x.seq < y.seq)
