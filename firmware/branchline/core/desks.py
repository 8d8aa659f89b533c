"""What the branch shows and counts of each desk: its panel LED, the state the metrics
integrate over time, and the handle times that wait for its wrap-up to end.

Only desks an event touched are looked at again (`touch`, then `settle` once at the end
of the event), so an event costs O(desks it touched), not O(desks).
"""

from branchline.router import AVAILABLE, BREAK, OFFLINE, WRAPUP


class Desks:
    def __init__(self, router, desks, caps, metrics, offered):
        """`offered(conv_id, desk)`: is that conversation still offered to that desk?"""
        self.router = router
        self._still_offered = offered
        # agent -> conversations offered to it and maybe not yet taken up (at most its
        # cap): its LED blinks while one still is
        self._offers = {}
        self.desks = desks  # agent index -> desk number
        self._caps = caps  # agent index -> cap
        self.metrics = metrics
        self._touched = set()  # agents to look at when the event ends (kept, cleared)
        # touch(agent): several times per event, so the set's own add, not a method.
        self.touch = self._touched.add
        self._missed = set()  # agents the router sent on break for missed offers
        self.leds = {}  # desk -> the LED state last sent
        self._clock = {}  # desk -> (signed in, held, in wrap-up) the metrics last saw
        self._seen = {}  # agent -> its router state when last settled (not in snapshots)
        self.since = {}  # desk -> [its presence, since when (ms)], for the wallboard
        self.presses = {}  # desk -> number of the last panel press taken (panel_bus.py)
        # agent -> [[queue, accepted, callback], ...]: conversations closed during or
        # before a wrap-up still running; their handle time ends with it.
        self._wrapping = {}

    def cap(self, agent):
        return self._caps[agent]

    def signed_in(self, agent):
        """Available or in wrap-up, as the last event left the desk (kept in snapshots:
        the same answer after a restart)."""
        clock = self._clock.get(self.desks[agent])
        return clock is not None and clock[0]

    def offer(self, agent, conv_id):
        self._offers.setdefault(agent, []).append(conv_id)
        self._touched.add(agent)

    def _offering(self, agent):
        """Is something offered to the desk now? (Forgets offers that ended.)"""
        offers = self._offers.get(agent)
        if not offers:
            return False
        desk = self.desks[agent]
        live = [c for c in offers if self._still_offered(c, desk)]
        if live:
            self._offers[agent] = live
            return True
        del self._offers[agent]
        return False

    def missed_break(self, agent):
        self._missed.add(agent)
        self._touched.add(agent)

    def closed(self, agent, queue, accepted, callback, now):
        """A conversation the desk held was closed: handle time is active time plus the
        wrap-up that follows, so it is counted when that wrap-up ends (now if none)."""
        self._touched.add(agent)
        if self.router.agent_presence(agent) == WRAPUP:
            self._wrapping.setdefault(agent, []).append([queue, accepted, callback])
        else:
            self.metrics.on_handled(queue, self.desks[agent], now - accepted, callback)

    def settle(self, now, effects):
        """After an event: end handle times whose wrap-up is over, tell the metrics each
        touched desk's new state, and send the LEDs that changed (desk order)."""
        if not self._touched:
            return
        for agent in sorted(self._touched):
            presence, load, missed = self.router.agent_state(agent)
            state = (presence, load, missed, self._offering(agent))
            if self._seen.get(agent) == state and agent not in self._missed:
                continue  # an offer run out and made again, say: nothing to show or count
            self._seen[agent] = state
            desk = self.desks[agent]
            since = self.since.get(desk)
            if since is None or since[0] != presence:
                self.since[desk] = [presence, now]
            if presence != WRAPUP and agent in self._wrapping:
                for queue, accepted, callback in self._wrapping.pop(agent):
                    self.metrics.on_handled(queue, desk, now - accepted, callback)
            clock = (presence in (AVAILABLE, WRAPUP), load, presence == WRAPUP)
            if self._clock.get(desk) != clock:
                self._clock[desk] = clock
                self.metrics.desk_state(desk, now, clock[0], clock[1], clock[2])
            led = self._led(agent, presence, load, missed, state[3])
            if self.leds.get(desk) != led:
                self.leds[desk] = led
                effects.append(("led", desk, led))
            if agent in self._missed:
                effects.append(("missed_break", desk))
        self._touched.clear()
        self._missed = set()

    def led_for(self, agent):
        presence, load, missed = self.router.agent_state(agent)
        return self._led(agent, presence, load, missed, self._offering(agent))

    def _led(self, agent, presence, load, missed, offering):
        if presence == OFFLINE:
            return "OFF"
        if offering:
            return "GREEN_BLINK"  # the agent has something to take up
        if presence == BREAK:
            # Missed offers put the desk on break: flash so the agent notices.
            return "RED_BLINK" if missed else "AMBER"
        if presence == WRAPUP:
            return "AMBER_BLINK"
        return "RED" if load >= self._caps[agent] else "GREEN"

    def dump(self):
        return {
            "leds": [[d, self.leds[d]] for d in sorted(self.leds)],
            "clock": [[d, list(self._clock[d])] for d in sorted(self._clock)],
            "wrapping": [[a, self._wrapping[a]] for a in sorted(self._wrapping)],
            "since": [[d, self.since[d]] for d in sorted(self.since)],
            "offers": [[a, self._offers[a]] for a in sorted(self._offers)],
            "presses": [[d, self.presses[d]] for d in sorted(self.presses)],
        }

    def load(self, doc):
        self.leds = {}
        for desk, led in doc["leds"]:
            self.leds[desk] = led
        self._clock = {}
        for desk, clock in doc["clock"]:
            self._clock[desk] = tuple(clock)
        self._wrapping = {}
        for agent, closed in doc["wrapping"]:
            self._wrapping[agent] = closed
        self.since = {}
        for desk, since in doc["since"]:
            self.since[desk] = since
        self._offers = {}
        for agent, offers in doc["offers"]:
            self._offers[agent] = offers
        self.presses = {}
        for desk, press in doc["presses"]:
            self.presses[desk] = press
