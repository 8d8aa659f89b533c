# The board's main.py (copied to the flash's root as main.py by `make firmware`).
import machine

from branchline.ports.micropython.main import main

if main() == 1:
    machine.reset()  # the journal failed: start again from it, as systemd would
