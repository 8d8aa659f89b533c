# The MicroPython edition under the unix port, for tests: mount the board's flash (a
# file-backed littlefs, flash.py), put the image's flash files on it (`make firmware`'s
# fs/: board.json, the console's pages) and the configuration, as provisioning would,
# and run the appliance's main from the flash's root, as a board boots.
#   micropython edition.py FLASH_FILE IMAGE_FS_DIR CONFIG.json
import os
import sys

import flash

from branchline.ports.micropython.main import main


def copy(src, dst):
    if os.stat(src)[0] & 0x4000:
        try:
            os.mkdir(dst)
        except OSError:
            pass  # there from an earlier start
        for name in os.listdir(src):
            copy(src + "/" + name, dst + "/" + name)
        return
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data)


flash.mount(sys.argv[1], 512)
copy(sys.argv[2], "/flash")
copy(sys.argv[3], "/flash/config.json")
os.chdir("/flash")
sys.exit(main("config.json", "board.json"))
