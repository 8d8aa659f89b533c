"""The console's pages and assets, shipped gzip-compressed in the package (static/,
made from assets/ by `make assets`): sent as they are, with Content-Encoding: gzip,
so the appliance never compresses at run time and an ESP32 keeps only the small form.
"""

import os

from microdot import Response

from branchline.web.answers import error

STATIC = __file__.rsplit("/", 1)[0] + "/static"
TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
         "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "wav": "audio/wav"}
# The pages a path shows (one page: its script picks the view from the path).
PAGES = ("/", "/wall")


def shipped():
    """The assets in the package: their names without the .gz."""
    return [name[:-3] for name in os.listdir(STATIC) if name.endswith(".gz")]


def _send(request, name):
    if "gzip" not in request.headers.get("Accept-Encoding", ""):
        return error(406, "the console's pages come gzip-compressed: use a browser")
    answer = Response.send_file(STATIC + "/" + name + ".gz", compressed=True,
                                content_type=TYPES[name.rsplit(".", 1)[1]])
    answer.headers["Cache-Control"] = "no-cache"
    answer.headers["Vary"] = "Accept-Encoding"
    return answer


def routes(app):
    names = shipped()

    async def page(request):
        return _send(request, "index.html")

    for path in PAGES:
        app.get(path)(page)

    @app.get("/static/<name>")
    async def asset(request, name):
        if name not in names or name == "index.html":
            return error(404, "not found")
        return _send(request, name)
