"""Device configuration: defaults fill in, and every error names the key at fault."""

from check import raises

from branchline.core import config
from branchline.core.redact import mask_number


def good():
    return {
        "site": "s",
        "device": "d",
        "modems": [],
        "queues": [{"name": "general"}],
        "desks": [{"desk": 1, "cap": 2, "queues": ["general"]}],
    }


def test_defaults_are_filled_in():
    cfg = config.validate(good())
    assert cfg["service_level_s"] == 40 and cfg["metrics_interval_s"] == 60


def test_errors_name_the_key():
    cases = (
        (lambda d: d.pop("site"), "site: missing"),
        (lambda d: d["desks"][0].update(cap=5), "desks[0].cap: must be 1..3, got 5"),
        (lambda d: d["desks"][0].update(cap=True), "desks[0].cap: must be an integer"),
        (lambda d: d["desks"][0].update(queues=["nope"]), "desks[0].queues[0]: no queue named 'nope'"),
        (lambda d: d["desks"].append({"desk": 1, "cap": 1, "queues": []}), "desks[1].desk: desk 1 is listed twice"),
        (lambda d: d["queues"].append({"name": "general"}), "queues[1].name: 'general' is used twice"),
        (lambda d: d["queues"][0].update(keywords=[""]), "queues[0].keywords[0]"),
        (lambda d: d.update(queues=[]), "queues: need 1..32 queues, got 0"),
        (lambda d: d.update(service_level_s=0), "service_level_s: must be a positive integer"),
        (lambda d: d["desks"][0].update(queues=[["general"]]), "desks[0].queues[0]: no queue named"),
        (lambda d: d["queues"][0].update(keywords=5), "queues[0].keywords: must be a list"),
        (lambda d: d["queues"][0].update(keywords="loan"), "queues[0].keywords: must be a list"),
        (lambda d: d.update(site="a/b"), "site: use letters, digits"),
        (lambda d: d.update(modems={"id": "m0"}), "modems: must be a list"),
        (lambda d: d.update(modems=[{"port": "/dev/ttyUSB0"}]), "modems[0].id: missing"),
        (lambda d: d.update(modems=[{"id": "m0"}]), "modems[0].port: missing"),
        (lambda d: d.update(modems=[{"id": "m0", "port": "/dev/x", "baud": 0}]), "modems[0].baud: must be 300..4000000"),
        (lambda d: d.update(modems=[{"id": "m0", "port": "a"}, {"id": "m0", "port": "b"}]), "modems[1].id: 'm0' is used twice"),
        (lambda d: d.update(panel="/dev/ttyACM0"), "panel: must be an object"),
        (lambda d: d.update(mqtt={"port": 70000}), "mqtt.port: must be 1..65535, got 70000"),
        (lambda d: d.update(console={"port": "80"}), "console.port: must be an integer"),
        (lambda d: d.update(state_dir=5), "state_dir: must be a string"),
        (lambda d: d.update(mqtt={"host": ""}), "mqtt.host: must be a host name or an address"),
        (lambda d: d.update(console={"host": "a b"}), "console.host: must be a host name"),
    )
    for mutate, expected in cases:
        doc = good()
        mutate(doc)
        with raises(config.ConfigError, match=expected):
            config.validate(doc)


def test_unknown_keys_are_refused_with_the_closest_known_one():
    cases = (
        (lambda d: d.update(offer_timout_s=30),
         "offer_timout_s: unknown key (did you mean offer_timeout_s?)"),
        (lambda d: d.update(queus=d.pop("queues")), "queus: unknown key (did you mean queues?)"),
        (lambda d: d["desks"][0].update(cpa=2), "desks[0].cpa: unknown key (did you mean cap?)"),
        (lambda d: d["queues"][0].update(strategey="ordered"),
         "queues[0].strategey: unknown key (did you mean strategy?)"),
        (lambda d: d.update(modems=[{"id": "m0", "port": "/dev/x", "drect": True}]),
         "modems[0].drect: unknown key (did you mean direct?)"),
        (lambda d: d.update(mqtt={"hots": "x"}), "mqtt.hots: unknown key (did you mean host?)"),
        (lambda d: d.update(console={"adress": "0.0.0.0"}), "console.adress: unknown key"),
        (lambda d: d.update(panel={"port": "/dev/x", "baudrate": 9600}),
         "panel.baudrate: unknown key (did you mean baud?)"),
        (lambda d: d.update(colour="blue"), "colour: unknown key"),
    )
    for mutate, expected in cases:
        doc = good()
        mutate(doc)
        with raises(config.ConfigError, match=expected) as caught:
            config.validate(doc)
        assert str(caught.value) == expected or expected.endswith("unknown key"), caught.value


def test_a_suggestion_only_when_a_key_is_close():
    assert config.closest("offer_timout_s", config.TOP_KEYS) == "offer_timeout_s"
    assert config.closest("colour", config.TOP_KEYS) is None
    assert config.closest("x", ("y", "xy")) == "xy"  # one letter may always differ
    assert config.closest("abc", ("abd", "abe")) == "abd"  # ties: the first in order


def test_modems_must_be_given_even_when_there_are_none():
    doc = good()
    doc.pop("modems")
    with raises(config.ConfigError, match='modems: missing (a branch without modems says "modems": [])'):
        config.validate(doc)
    assert config.warnings(config.validate(good())) == [
        "modems: none configured: no SMS can be received or sent"]
    doc = good()
    doc["modems"] = [{"id": "m0", "port": "/dev/ttyUSB0"}]
    assert config.warnings(config.validate(doc)) == []


def test_not_an_object():
    with raises(config.ConfigError, match="must be a JSON object"):
        config.validate([])


def test_numbers_are_masked_for_logs():
    assert mask_number("+8613800138000") == "+86138****8000"
    assert mask_number("07700900123") == "07700****0123"
    assert mask_number("12345") == "***45"
    assert mask_number(None) == "?"
