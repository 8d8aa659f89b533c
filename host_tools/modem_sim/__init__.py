"""A GSM/LTE modem on a pseudo-terminal that answers like a SIM800 or a Quectel EC25 in PDU
mode, so the product's driver and third-party tools (gammu) cannot tell it from hardware.

It echoes until ATE0, keeps messages in numbered slots of "SM"/"ME" and status reports in
"SR" (or with the messages, as some modems do), announces them per AT+CNMI (+CMTI/+CMT/+CDSI/+CDS), sends after the '>' prompt,
rings for incoming calls, reboots on AT+CFUN=1,1, paces its line at `baud`, and takes
faults on request (garbage, dropped answers, failed sends, full storage, a hang, a port
that vanishes). Tests drive the network side with `deliver()`, `call()` and friends;
`storm()` delivers a message every few milliseconds, a steady stream of +CMTI.
"""

from host_tools.modem_sim.sim import ModemSim

__all__ = ["ModemSim"]
