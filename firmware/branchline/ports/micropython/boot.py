# The board's boot.py (copied to the flash's root by `make firmware`): nothing to do
# before main.py; littlefs is mounted at / by MicroPython's own _boot.py.
