# Counts the checks of the scripts the unix port runs for pytest (no pytest there): one
# line per failed check, and "<name>: N checks, F failed" at the end, which the pytest
# side reads.


class Tally:
    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failed = 0

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failed += 1
            print("FAILED:", what)

    def summary(self):
        print("%s: %d checks, %d failed" % (self.name, self.checks, self.failed))
