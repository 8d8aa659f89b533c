# The edition's clock (ports/micropython/clock.py) under the unix port with the shim's
# RTC: ms since 1970 whatever the port's epoch, raised to the journal's last time or the
# image's build time, set by a step. Prints each failed check and "clock: N checks, M
# failed".
import time

from branchline.ports.micropython import clock
from tally import Tally

tally = Tally("clock")

wall = time.time_ns() // 1000000 + (946684800000 if time.gmtime(0)[0] == 2000 else 0)
tally.check(abs(clock.now_ms() - wall) < 2000, "ms since 1970")
clock.not_before(wall - 3600000)
tally.check(abs(clock.now_ms() - wall) < 2000, "a journal behind the clock leaves it")
clock.not_before(wall + 3600000)
tally.check(clock.now_ms() >= wall + 3600000, "a journal ahead raises it")
clock.BUILT_MS = wall + 86400000
clock.not_before(0)
tally.check(clock.now_ms() >= wall + 86400000, "never earlier than the image's build")
clock.set_now(wall)
tally.check(abs(clock.now_ms() - wall) < 2000, "a step sets it, back too")
tally.summary()
