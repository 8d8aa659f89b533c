# The edition's clock (ports/micropython/clock.py) under the unix port with the shim's
# RTC: ms since 1970 whatever the port's epoch, raised to the journal's last time or the
# image's build time, set by a step. Prints "clock: N checks, M failed".
import time

from branchline.ports.micropython import clock

checks = []


def check(what, ok):
    checks.append(ok)
    print(("ok   " if ok else "FAIL ") + what)


wall = time.time_ns() // 1000000 + (946684800000 if time.gmtime(0)[0] == 2000 else 0)
check("ms since 1970", abs(clock.now_ms() - wall) < 2000)
clock.not_before(wall - 3600000)
check("a journal behind the clock leaves it", abs(clock.now_ms() - wall) < 2000)
clock.not_before(wall + 3600000)
check("a journal ahead raises it", clock.now_ms() >= wall + 3600000)
clock.BUILT_MS = wall + 86400000
clock.not_before(0)
check("never earlier than the image's build", clock.now_ms() >= wall + 86400000)
clock.set_now(wall)
check("a step sets it, back too", abs(clock.now_ms() - wall) < 2000)
print("clock: %d checks, %d failed" % (len(checks), checks.count(False)))
