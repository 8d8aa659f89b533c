# Prints the journal a MicroPython edition left on its flash (a file-backed littlefs,
# flash.py), one record per line in the one JSON encoding, oldest first: the archive's
# segments, then the live ones. For tests, after the gateway stopped or was killed.
#   micropython flash_journal.py FLASH_FILE [STATE_DIR]
import os
import sys

import flash

from branchline.core import journal, jsonfmt, snapshot

flash.mount(sys.argv[1], 512)
state = "/flash/" + (sys.argv[2] if len(sys.argv) > 2 else "state")
paths = []
archive = state + "/" + snapshot.ARCHIVE_DIR
try:
    for _until, n, name in snapshot.archive_listing(os.listdir(archive)):
        paths.append((n, archive + "/" + name))
except OSError:
    pass  # no archive yet
_, segments = snapshot.listing(os.listdir(state))
for n in segments:
    paths.append((n, state + "/" + snapshot.name(snapshot.SEGMENT_PREFIX, n)))
paths.sort()
for _n, path in paths:
    with open(path, "rb") as f:
        for record in journal.scan(f.read())[0]:
            sys.stdout.write(jsonfmt.encode(record).decode() + "\n")
