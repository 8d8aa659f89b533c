"""The state folder's file system on CPython (POSIX): what appliance/store.py asks of
`fs`, with fsync for durability."""

import os

basename = os.path.basename
exists = os.path.exists
isdir = os.path.isdir
join = os.path.join
listdir = os.listdir
remove = os.remove
rename = os.replace
size = os.path.getsize


def makedirs(path):
    os.makedirs(path, exist_ok=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sync_dir(path):
    """Make a file's creation or rename durable: fsync the directory that lists it."""
    fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create(path):
    """A new file to write (then closed, and put in place by commit)."""
    return open(path, "wb")


def commit(tmp, path):
    """Put the written, closed file `tmp` in place of `path` so that a power cut leaves
    the old or the new whole: fsync it, rename it over, fsync the directory."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    sync_dir(path)


def write_durably(path, data):
    """Replace `path` with `data`, durably (commit)."""
    tmp = path + ".tmp"
    with create(tmp) as f:
        f.write(data)
    commit(tmp, path)


class open_log:
    """A journal segment: appends with one fsync each, read whole at start-up."""

    def __init__(self, path):
        existed = os.path.exists(path)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not existed:
            sync_dir(path)
        os.lseek(self._fd, 0, os.SEEK_END)

    def read_all(self):
        size = os.fstat(self._fd).st_size
        return os.pread(self._fd, size, 0) if size else b""

    def append(self, blob):
        view = memoryview(blob)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def cut(self, size):
        os.ftruncate(self._fd, size)
        os.fsync(self._fd)
        os.lseek(self._fd, size, os.SEEK_SET)

    def close(self):
        os.close(self._fd)
