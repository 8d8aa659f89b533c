"""The service layer's figures: a customer's history looked up in an index of 100,000
customers and 1,000,000 messages (SQLite, as on the Pi), the core's events/s with the
service layer on and off in the same run, and the MicroPython heap with 64 open
conversations, menu, hours and the btree history on (the 32-bit unix port)."""

import os
import random
import shutil
import tempfile
import time

from branchline.ports.cpython.history_sqlite import SqliteHistory

from host_tools.bench import core, heap, report

CUSTOMERS = 100000
CONVERSATIONS_PER_CUSTOMER = 2
MESSAGES_PER_CONVERSATION = 5
LOOKUPS = 2000
LOAD = 1000  # open conversations for the events/s comparison
T0 = 1796169600000


def _record(conv_id, number, t):
    messages = [{"dir": ("in", "out")[i % 2], "t": t + i * 1000,
                 "text": "message %d of conversation %d about an account" % (i, conv_id)}
                for i in range(MESSAGES_PER_CONVERSATION)]
    return {"id": conv_id, "customer": number, "queue": "general", "state": "closed",
            "kind": "sms", "lang": "en", "created": t, "closed": t + 60000,
            "outcome": "resolved", "disposition": "info", "messages": messages}


def history_lookup():
    """-> (p50 ms, p99 ms, build s) over LOOKUPS random customers."""
    folder = tempfile.mkdtemp(prefix="bl-history-")
    try:
        index = SqliteHistory(os.path.join(folder, "history.sqlite3"))
        t0 = time.perf_counter()
        conv_id = 0
        for round_ in range(CONVERSATIONS_PER_CUSTOMER):
            for c in range(CUSTOMERS):
                conv_id += 1
                index.add_conversation(_record(conv_id, "+8529%07d" % c,
                                               T0 + (round_ * CUSTOMERS + c) * 1000))
        index.commit()
        built = time.perf_counter() - t0
        rng = random.Random(7)
        times = []
        for _ in range(LOOKUPS):
            number = "+8529%07d" % rng.randrange(CUSTOMERS)
            t = time.perf_counter()
            doc = index.customer(number)
            times.append((time.perf_counter() - t) * 1000)
            assert len(doc["conversations"]) == CONVERSATIONS_PER_CUSTOMER
        index.close()
        times.sort()
        return times[len(times) // 2], times[len(times) * 99 // 100], built
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    p50, p99, built = history_lookup()
    figures = {
        "history_lookup_ms_p50": round(p50, 3),
        "history_lookup_ms_p99": round(p99, 3),
        "history_build_s": round(built, 1),
    }
    off = core.events_per_s(LOAD)
    on = core.events_per_s(LOAD, service=True)
    figures["core_events_per_s_service_off"] = off
    figures["core_events_per_s_service_on"] = on
    figures["service_on_vs_off_pm"] = on * 1000 // off
    probe = heap.probe(heap.ESP32_LIMITS, service=True)
    figures["mpy_heap_kb_service"] = (probe["core_peak_bytes"] + 1023) // 1024
    figures["mpy_heap_kb_service_settled"] = (probe["core_settled_bytes"] + 1023) // 1024
    notes = [
        "history: SQLite (WAL) with %d customers, %d conversations of %d messages each "
        "(%d messages); p50/p99 of %d lookups of a random customer's profile and thread"
        % (CUSTOMERS, CUSTOMERS * CONVERSATIONS_PER_CUSTOMER, MESSAGES_PER_CONVERSATION,
           CUSTOMERS * CONVERSATIONS_PER_CUSTOMER * MESSAGES_PER_CONVERSATION, LOOKUPS),
        "core events/s: Branch.apply with the C router at %d open conversations; service "
        "on = two languages, opening hours, a menu every new customer answers, surveys and "
        "position messages in every queue (host_tools/bench/core_day.py service_config)"
        % LOAD,
        "mpy_heap_kb_service: gc.mem_alloc() peak on the 32-bit unix port, %d open, ESP32 "
        "limits, the same service configuration, and the btree history index fed every "
        "event's effects; target 96 KB" % heap.OPEN,
    ]
    report.write("service", figures, notes)
    return 0


if __name__ == "__main__":
    main()
