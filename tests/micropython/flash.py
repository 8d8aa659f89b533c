# A board's flash for the unix port, in tests only: a littlefs (the ESP32's own
# filesystem code) on a block device backed by a file, mounted at /flash. Every block
# write goes straight to the file, so a killed process leaves what littlefs committed.
import os
import vfs

BLOCK = 4096


class FileBlocks:
    def __init__(self, path, blocks):
        self.blocks = blocks
        try:
            self.f = open(path, "r+b")
        except OSError:
            self.f = open(path, "w+b")
            erased = b"\xff" * BLOCK
            for _ in range(blocks):
                self.f.write(erased)
            self.f.flush()

    def readblocks(self, n, buf, offset=0):
        self.f.seek(n * BLOCK + offset)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, offset=0):
        self.f.seek(n * BLOCK + offset)
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return BLOCK
        if op == 6:  # erase: littlefs writes whole blocks anyway
            return 0
        return 0


def mount(path, blocks, at="/flash"):
    dev = FileBlocks(path, blocks)
    try:
        fs = vfs.VfsLfs2(dev)
    except OSError:
        vfs.VfsLfs2.mkfs(dev)
        fs = vfs.VfsLfs2(dev)
    vfs.mount(fs, at)
    return fs
