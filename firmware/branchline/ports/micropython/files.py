"""The state folder's file system on MicroPython: littlefs on the board's flash (what
appliance/store.py asks of `fs`).

Durability on littlefs: a file's data and size are committed when it is flushed or
closed (lfs_file_sync), and a rename is one atomic metadata commit; littlefs is
copy-on-write, so a power cut leaves each file as it was at its last commit. So an
append is durable when `flush()` returns, `write_durably` is write + close + rename,
and `sync_dir` has nothing left to do. MicroPython files cannot be truncated: cutting a
torn tail rewrites the segment (durably) without it, which happens once after a cut.
"""

import os

_DIR = 0x4000


def join(a, b):
    return b if b.startswith("/") else (a.rstrip("/") + "/" + b if a else b)


def basename(path):
    return path[path.rfind("/") + 1:]


def _stat(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def exists(path):
    return _stat(path) is not None


def isdir(path):
    st = _stat(path)
    return st is not None and st[0] & _DIR != 0


def listdir(path):
    return os.listdir(path)


def size(path):
    return os.stat(path)[6]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rename(a, b):
    os.rename(a, b)


def remove(path):
    os.remove(path)


def makedirs(path):
    if not isdir(path):
        cut = path.rfind("/")
        parent = path[:cut] if cut > 0 else ""
        if parent and not isdir(parent):
            makedirs(parent)
        os.mkdir(path)


def sync_dir(path):
    pass  # littlefs commits a creation, rename or removal atomically by itself


def create(path):
    """A new file to write (then closed, and put in place by commit)."""
    return open(path, "wb")


def commit(tmp, path):
    """Put the written, closed file `tmp` in place of `path`: closing committed it, the
    rename is atomic."""
    os.rename(tmp, path)


def write_durably(path, data):
    tmp = path + ".tmp"
    with create(tmp) as f:
        f.write(data)
    commit(tmp, path)


class open_log:
    """A journal segment: each append is flushed (committed) before it returns."""

    def __init__(self, path):
        self.path = path
        self._f = open(path, "ab")

    def read_all(self):
        return read(self.path)

    def append(self, blob):
        self._f.write(blob)
        self._f.flush()

    def cut(self, length):
        self._f.close()
        write_durably(self.path, read(self.path)[:length])
        self._f = open(self.path, "ab")

    def close(self):
        self._f.close()
