"""Contact-center figures, computed from what the core tells it, with time passed in.

Definitions (docs/mqtt.md repeats them for head office):
- offered: conversations that entered a queue.
- answered: conversations a desk took up (accepted, replied to, or closed while offered);
  an offer alone is not an answer. Speed of answer = acceptance - arrival.
- service level: answered within `service_level_s`, as a share of conversations that have
  finished waiting (answered + abandoned), the "80 % within 40 s" figure.
- first response time: arrival to the agent's first reply.
- handle time: acceptance to wrap-up (close).
"""


def _avg_s(total_ms, count):
    if not count:
        return None
    return round(total_ms / count / 1000.0, 3)


class Metrics:
    def __init__(self, service_level_s):
        self.service_level_ms = service_level_s * 1000
        self.offered = 0
        self.answered = 0
        self.abandoned = 0
        self.answered_in_sl = 0
        self.wait_ms_total = 0
        self.responded = 0
        self.first_response_ms_total = 0
        self.closed = 0
        self.handle_ms_total = 0

    def on_offered(self):
        self.offered += 1

    def on_answered(self, waited_ms):
        self.answered += 1
        self.wait_ms_total += waited_ms
        if waited_ms <= self.service_level_ms:
            self.answered_in_sl += 1

    def on_first_response(self, after_ms):
        self.responded += 1
        self.first_response_ms_total += after_ms

    def on_closed(self, handled_ms):
        self.closed += 1
        self.handle_ms_total += handled_ms

    def snapshot(self):
        finished_waiting = self.answered + self.abandoned
        sl = None
        if finished_waiting:
            sl = round(100.0 * self.answered_in_sl / finished_waiting, 2)
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level_pct": sl,
            "service_level_s": self.service_level_ms // 1000,
            "asa_s": _avg_s(self.wait_ms_total, self.answered),
            "first_response_s": _avg_s(self.first_response_ms_total, self.responded),
            "handle_s": _avg_s(self.handle_ms_total, self.closed),
            "closed": self.closed,
        }
