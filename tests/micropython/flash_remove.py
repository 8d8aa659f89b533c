# Removes files from an edition's flash (a file-backed littlefs, flash.py), as a damaged
# or lost file would be: for tests, while the gateway is down.
#   micropython flash_remove.py FLASH_FILE PATH...
import os
import sys

import flash

flash.mount(sys.argv[1], 512)
for path in sys.argv[2:]:
    os.remove("/flash/" + path)
    print("removed", path)
