"""The console's answers: the one JSON encoding, and errors as {"error": "..."}."""

from microdot import Response

from branchline.core import jsonfmt


class Refusal(Exception):
    """An answer other than 200: its status and the reason in words."""

    def __init__(self, status, reason):
        Exception.__init__(self, reason)
        self.status = status
        self.reason = reason


def json_response(doc, status=200):
    return Response(jsonfmt.encode(doc), status,
                    {"Content-Type": "application/json; charset=utf-8",
                     "Cache-Control": "no-store"})


def error(status, reason):
    return json_response({"error": reason}, status)
