"""What the core's bounded memories cost per entry on a 32-bit MicroPython (the unix
port `make test` builds): the compact encodings stay compact (docs/memory.md). The
whole core's heap is a `make bench` figure, not a test."""

import pytest

from host_tools.bench import heap


@pytest.fixture(scope="module")
def costs():
    if heap.unix_port() is None:
        pytest.skip("the 32-bit MicroPython unix port is not built (make test builds it)")
    return heap.probe(heap.ESP32_LIMITS, events=600)


def test_ring_entries_cost_their_width_and_nothing_per_entry_besides(costs):
    assert costs["fingerprint_bytes"] == 8
    assert costs["remembered_customer_bytes"] == 21
    assert costs["remembered_send_bytes"] == 17
    assert costs["remembered_close_bytes"] == 24  # 20 and the key's copy
    assert costs["remembered_survey_bytes"] == 45  # 41 and the key's copy
    assert costs["remembered_preference_bytes"] == 6


def test_the_probe_measured_the_load_it_was_asked_for(costs):
    assert heap.OPEN - 1 <= costs["open"] <= heap.OPEN  # a close now and then, one in
    assert 0 < costs["core_empty_bytes"] < costs["core_settled_bytes"] <= costs["core_peak_bytes"]
    # An open conversation: its object, its queue entry, its first messages; about 700
    # bytes today. A tenfold jump means a structure per conversation came back.
    assert 0 < costs["open_conversation_bytes"] < 2000
    assert 0 < costs["message_bytes_beyond_text"] < 200
