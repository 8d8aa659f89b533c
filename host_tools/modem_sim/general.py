"""Commands every modem has: line settings (ATE, ATV, AT+CMEE), identification, power
(AT+CFUN), and health (AT+CSQ, AT+CREG, AT+CEREG, AT+CPIN)."""

from host_tools.modem_sim import models
from host_tools.modem_sim.parser import EXEC, READ, SET, fields
from host_tools.modem_sim.results import cme, handles, number, plain


def _flag(cmd):
    """ATE / ATE0 / ATE1 -> bool; anything else is a plain ERROR."""
    return bool(number(cmd.args or "0", (0, 1), plain()))


class GeneralCommands:
    def need_sim(self, error=None):
        if not self.sim_present:
            raise error or cme(10)

    @handles("E")
    def _echo(self, cmd):
        self.echo = _flag(cmd)

    @handles("V")
    def _verbose(self, cmd):
        self.verbose = _flag(cmd)

    @handles("Q")
    def _quiet(self, cmd):
        # Quiet mode (no result codes at all) is not simulated; Q0 is the only setting.
        number(cmd.args or "0", (0,), plain())

    @handles("Z", "&F")
    def _reset(self, cmd):
        self.reset_settings()

    @handles("&W", "&D", "&C")
    def _accepted(self, cmd):
        """Profile saving and DTR/DCD wiring mean nothing on a pty; clients still send them."""

    @handles("I")
    def _ati(self, cmd):
        for line in self.model.ati:
            self.info(line)

    def _identity(self, cmd, value):
        if cmd.op != EXEC:
            raise plain()
        self.info(value)

    @handles("+CGMI", "+GMI")
    def _manufacturer(self, cmd):
        self._identity(cmd, self.model.manufacturer)

    @handles("+CGMM", "+GMM")
    def _model(self, cmd):
        self._identity(cmd, self.model.model)

    @handles("+CGMR", "+GMR")
    def _revision(self, cmd):
        self._identity(cmd, self.model.revision)

    @handles("+CGSN", "+GSN")
    def _imei(self, cmd):
        self._identity(cmd, models.IMEI)

    @handles("+CIMI")
    def _imsi(self, cmd):
        self.need_sim()
        self._identity(cmd, models.IMSI)

    @handles("+CMEE", test="+CMEE: (0-2)")
    def _cmee(self, cmd):
        self._setting(cmd, "cmee", range(3))

    def _setting(self, cmd, attr, allowed, error=None):
        """The common shape: =<n> sets, ? reads back."""
        if cmd.op == SET:
            setattr(self, attr, number(cmd.args, allowed, error or cme(50)))
        elif cmd.op == READ:
            self.info("%s: %d" % (cmd.name, getattr(self, attr)))
        else:
            raise error or cme(50)

    @handles("+CSCS", test='+CSCS: ("IRA","GSM","UCS2","HEX")')
    def _charset(self, cmd):
        if cmd.op == SET:
            charset = fields(cmd.args)[0].upper()
            if charset not in ("IRA", "GSM", "UCS2", "HEX"):
                raise cme(4)
            self.cscs = charset
        elif cmd.op == READ:
            self.info('+CSCS: "%s"' % self.cscs)

    @handles("+CFUN", test="+CFUN: (0,1,4),(0,1)")
    def _cfun(self, cmd):
        if cmd.op != SET:
            self._setting(cmd, "fun", (0, 1, 4))
            return
        args = fields(cmd.args)
        self.fun = number(args[0], (0, 1, 4), cme(50))
        if len(args) > 1 and args[1] and number(args[1], (0, 1), cme(50)):
            self.on_log("AT+CFUN=%d,1: rebooting" % self.fun)
            self.reboot()

    @handles("+CSQ", test="+CSQ: (0-31,99),(0-7,99)")
    def _csq(self, cmd):
        self.info("+CSQ: %d,%d" % (self.rssi, self.ber) if self.fun == 1 else "+CSQ: 99,99")

    @handles("+CREG", test="+CREG: (0-2)")
    def _creg(self, cmd):
        self._registration(cmd, "creg_n")

    @handles("+CEREG", test="+CEREG: (0-2)")
    def _cereg(self, cmd):
        if not self.model.lte:
            raise plain()  # a 2G modem does not know the command
        self._registration(cmd, "cereg_n")

    def _registration(self, cmd, attr):
        if cmd.op == READ:
            stat = self.reg_stat if self.fun == 1 and self.sim_present else 0
            self.info("%s: %d,%d" % (cmd.name, getattr(self, attr), stat))
        else:
            self._setting(cmd, attr, range(3))

    @handles("+CPIN")
    def _cpin(self, cmd):
        if cmd.op != READ:
            raise cme(3)  # no PIN is set on the simulated SIM
        self.need_sim()
        self.info("+CPIN: READY")
