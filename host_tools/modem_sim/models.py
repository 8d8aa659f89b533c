"""What each simulated model says about itself: identification, the URCs it prints while
booting, and whether it is an LTE modem (those answer AT+CEREG; 2G ones do not)."""


class Model:
    def __init__(self, manufacturer, model, revision, ati, lte, boot_urcs):
        self.manufacturer = manufacturer
        self.model = model
        self.revision = revision
        self.ati = ati  # ATI's lines
        self.lte = lte
        self.boot_urcs = boot_urcs  # printed after power-on or AT+CFUN=1,1, SIM present


MODELS = {
    "SIM800": Model(
        "SIMCOM_Ltd", "SIMCOM_SIM800L", "Revision:1418B05SIM800L24", ("SIM800 R14.18",),
        lte=False,
        boot_urcs=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
    ),
    "EC25": Model(
        "Quectel", "EC25", "EC25EFAR06A09M4G", ("Quectel", "EC25", "Revision: EC25EFAR06A09M4G"),
        lte=True,
        boot_urcs=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"),
    ),
}

# The boot URCs up to the SIM check; without a SIM the modem stops there and says so.
NO_SIM_URCS = ("RDY", "+CFUN: 1", "+CPIN: NOT INSERTED")

IMEI = "866000000000017"
IMSI = "460001234567890"
SMSC = "+8613800200500"
