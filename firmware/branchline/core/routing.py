"""From the branch's configuration to a configured router (docs/router.md): queues with
their strategy and overflow tiers, desks with their skills, caps and wrap-up, and the
branch-wide timers (offer timeout, missed offers, private-queue overflow, the rejoin
window after a cancel) and each queue's max wait."""

from branchline.router import (
    FEWEST_ACTIVE,
    LONGEST_IDLE,
    MANUAL,
    NEVER,
    NO_QUEUE,
    ORDERED,
    ROUND_ROBIN,
    Router,
)

STRATEGIES = {
    "longest_idle": LONGEST_IDLE,
    "fewest_active": FEWEST_ACTIVE,
    "round_robin": ROUND_ROBIN,
    "ordered": ORDERED,
    "manual": MANUAL,
}


def _ms(doc, key):
    """A configured number of seconds as the router's ms, NEVER when not set."""
    return doc[key] * 1000 if doc.get(key) else NEVER


def skill_mask(names, queue_index):
    mask = 0
    for name in names:
        mask |= 1 << queue_index[name]
    return mask


def build_router(config):
    """-> (router, {queue name: index}) for a validated configuration."""
    queue_index = {}
    for i, q in enumerate(config["queues"]):
        queue_index[q["name"]] = i
    router = Router(
        len(config["queues"]),
        len(config["desks"]),
        config["queue_capacity"],
        offer_timeout_ms=config["offer_timeout_s"] * 1000,
        rejoin_ms=config["rejoin_s"] * 1000,
        private_ms=config["private_timeout_s"] * 1000,
        max_misses=config["max_missed_offers"],
    )
    for i, q in enumerate(config["queues"]):
        router.set_queue(
            i,
            STRATEGIES[q.get("strategy", "longest_idle")],
            queue_index.get(q.get("overflow_queue"), NO_QUEUE),
            _ms(q, "backup_after_s"),
            _ms(q, "overflow_after_s"),
        )
        router.set_max_wait(i, _ms(q, "max_wait_s"))
    for agent, d in enumerate(config["desks"]):
        router.configure_agent(
            agent,
            d["cap"],
            skill_mask(d["queues"], queue_index),
            skill_mask(d.get("backup_queues", ()), queue_index),
        )
        if d.get("wrapup_s") or d.get("wrapup_manual"):
            router.set_wrapup(agent, d.get("wrapup_s", 0) * 1000, d.get("wrapup_manual", False))
    return router, queue_index
