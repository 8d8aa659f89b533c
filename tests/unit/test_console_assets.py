"""The console's shipped pages are exactly their sources compressed (`make assets`
after an edit), small enough for an ESP32's flash, and free of inline script."""

import gzip
import os
import re

from host_tools import assets

LIMIT = 100 * 1024  # what the ESP32 edition can spare on flash


def test_every_shipped_asset_is_its_source_compressed():
    shipped = sorted(n[:-3] for n in os.listdir(assets.SHIPPED) if n.endswith(".gz"))
    assert shipped == assets.sources(), "run `make assets`"
    for name in shipped:
        with open(os.path.join(assets.SOURCES, name), "rb") as f:
            source = f.read()
        with gzip.open(os.path.join(assets.SHIPPED, name + ".gz")) as f:
            assert f.read() == source, "%s is stale: run `make assets`" % name


def test_the_assets_fit_the_flash_budget():
    total = sum(os.path.getsize(os.path.join(assets.SHIPPED, n))
                for n in os.listdir(assets.SHIPPED))
    assert total <= LIMIT, total


def test_the_page_has_no_inline_script_or_handler():
    with open(os.path.join(assets.SOURCES, "index.html"), encoding="utf-8") as f:
        html = f.read()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.findall(r"\son[a-z]+=", html) == []
    for name in assets.sources():
        if name.endswith(".js"):
            with open(os.path.join(assets.SOURCES, name), encoding="utf-8") as f:
                assert "innerHTML" not in f.read(), name  # text only: textContent
