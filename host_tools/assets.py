"""Compress the console's pages and assets (firmware/branchline/web/assets) into what
the package ships (web/static/<name>.gz): gzip at the highest level with no time stamp
and no file name inside, so the same source makes the same bytes."""

import gzip
import os
import sys

WEB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "firmware", "branchline", "web")
SOURCES = os.path.join(WEB, "assets")
SHIPPED = os.path.join(WEB, "static")


def sources():
    return sorted(n for n in os.listdir(SOURCES) if not n.startswith("."))


def build():
    """-> {name: compressed size}; removes a shipped file whose source is gone."""
    os.makedirs(SHIPPED, exist_ok=True)
    sizes = {}
    names = sources()
    for name in names:
        with open(os.path.join(SOURCES, name), "rb") as f:
            data = gzip.compress(f.read(), compresslevel=9, mtime=0)
        with open(os.path.join(SHIPPED, name + ".gz"), "wb") as f:
            f.write(data)
        sizes[name] = len(data)
    for name in os.listdir(SHIPPED):
        if name.endswith(".gz") and name[:-3] not in names:
            os.remove(os.path.join(SHIPPED, name))
    return sizes


def main():
    sizes = build()
    for name, size in sorted(sizes.items()):
        print("%-12s %6d bytes" % (name, size))
    print("%-12s %6d bytes compressed" % ("total", sum(sizes.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
