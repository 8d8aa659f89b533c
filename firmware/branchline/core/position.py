"""Queue position and expected wait by SMS, for queues that turn it on ("position_updates":
true): "You are number 3 in line, expected wait about 4 minutes".

The first goes when the conversation starts waiting in the queue; then one every
`position_update_s` at most, only when the position has changed, and never more than
`max_position_sms` per conversation (each SMS costs money). The expected wait is the
position times the queue's recent handle time (a moving average over closes, 1/8 per
close) over the conversations its present desks can hold at once.
"""

from branchline.fifo import Fifo

DEFAULT_HANDLE_MS = 300000  # before a queue's first close
EMA_SHIFT = 3  # each close moves the average 1/8 of the way


class Positions:
    def __init__(self, cfg):
        self.enabled = {}
        for q in cfg["queues"]:
            self.enabled[q["name"]] = q.get("position_updates", False)
        self.every_ms = cfg["position_update_s"] * 1000
        self.max_sms = cfg["max_position_sms"]
        self.schedule = Fifo()  # [due, conv id], due in order (one interval for all)
        self.handle_ms = {}  # queue -> moving average of handle time

    def on(self, queue):
        return self.enabled.get(queue, False) and self.max_sms > 0

    def closed(self, queue, handle_ms):
        old = self.handle_ms.get(queue)
        self.handle_ms[queue] = handle_ms if old is None else old + ((handle_ms - old) >> EMA_SHIFT)

    def expected_minutes(self, queue, position, capacity):
        """Minutes (rounded up, at least 1) for the customer at `position` (1 first)
        when the queue's present desks hold `capacity` conversations at once."""
        handle = self.handle_ms.get(queue, DEFAULT_HANDLE_MS)
        ms = position * handle // max(1, capacity)
        return max(1, (ms + 59999) // 60000)

    def sent(self, conv_id, now):
        self.schedule.push([now + self.every_ms, conv_id])

    def next_due(self):
        return self.schedule.first()[0] if self.schedule else None

    def due(self, now):
        """Conversation ids whose next update may go now."""
        out = []
        while self.schedule and self.schedule.first()[0] <= now:
            out.append(self.schedule.pop()[1])
        return out

    def dump(self):
        return {"schedule": self.schedule.items(),
                "handle_ms": [[q, self.handle_ms[q]] for q in sorted(self.handle_ms)]}

    def load(self, doc):
        self.schedule = Fifo(doc["schedule"])
        self.handle_ms = dict(doc["handle_ms"])
