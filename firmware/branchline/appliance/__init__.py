"""The appliance's wiring, the same code on CPython and MicroPython: the event path
(check, journal, apply, act), the state folder (journal segments and snapshots), the
modems and their pool, the panels' bus, the customer history's feed, the head-office
link's bookkeeping.

Each runtime's port (branchline.ports.cpython, branchline.ports.micropython) gives it
the I/O: serial links, a file system, a clock, timers, a thread where it has one, the
MQTT client and the console's server.
"""
