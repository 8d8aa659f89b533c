"""The agents' console API on the branch LAN (JSON over HTTP, aiohttp).

GET  /api/state                          desks, queues, outboxes, metrics
GET  /api/conversations/{id}             one open conversation with its messages
POST /api/conversations/{id}/reply       {"text": "..."}: send an SMS to the customer
POST /api/conversations/{id}/close       {"outcome": "resolved"}: wrap up
POST /api/conversations/{id}/transfer    {"desk": 2} or {"queue": "loans", "keep_time": true}
POST /api/conversations/{id}/escalate    {"note": "..."}: hand over to head office
POST /api/conversations/{id}/assign      {"desk": 2, "force": false}: a supervisor's choice
POST /api/desks/{desk}/presence          {"state": "available" | "break" | "offline",
                                          "reason": 3}

Every change goes through the gateway's journaled event path; a request the core
rejects answers 409 with the reason, malformed input 400.
"""

import json

from aiohttp import web

from branchline.core.branch import Rejected
from branchline.ports.cpython.clock import now_ms


def _error(status, reason):
    return web.json_response({"error": reason}, status=status)


def _int_param(request, name):
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "%s must be an integer" % name}),
            content_type="application/json",
        )


async def _body(request):
    try:
        doc = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body is not JSON"}), content_type="application/json"
        )
    if not isinstance(doc, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be a JSON object"}),
            content_type="application/json",
        )
    return doc


async def _submit(gateway, event):
    try:
        effects = await gateway.submit(event)
    except Rejected as e:
        return _error(409, str(e))
    refused = [effect[1] for effect in effects if effect[0] == "refused"]
    if refused:
        return _error(409, "; ".join(refused))
    return web.json_response({"ok": True, "effects": len(effects)})


def _conv_event(kind, fields):
    """A POST /api/conversations/{id}/<kind> handler whose body's `fields` (name -> type)
    become the event's, checked for type here and for meaning by the core."""

    async def handler(request):
        conv = _int_param(request, "conv")
        doc = await _body(request)
        event = {"k": kind, "t": now_ms(), "conv": conv}
        for name, kind_of in fields.items():
            if name in doc:
                value = doc[name]
                # bool is an int to Python, but true is no desk number
                if isinstance(value, bool) != (kind_of is bool) or not isinstance(value, kind_of):
                    return _error(400, "%s must be %s" % (name, kind_of.__name__))
                event[name] = value
        return await _submit(request.app["gateway"], event)

    return handler


def make_app(gateway):
    routes = web.RouteTableDef()

    @routes.get("/api/state")
    async def state(request):
        return web.json_response(gateway.core.state_summary())

    @routes.get("/api/conversations/{conv}")
    async def conversation(request):
        conv = gateway.core.conversations.get(_int_param(request, "conv"))
        if conv is None:
            return _error(404, "no open conversation")
        return web.json_response(conv.as_dict())

    @routes.post("/api/conversations/{conv}/reply")
    async def reply(request):
        conv = _int_param(request, "conv")
        doc = await _body(request)
        text = doc.get("text")
        if not isinstance(text, str):
            return _error(400, "text must be a string")
        now = now_ms()
        return await _submit(gateway, {"k": "reply", "t": now, "conv": conv, "text": text})

    @routes.post("/api/conversations/{conv}/close")
    async def close(request):
        conv = _int_param(request, "conv")
        doc = await _body(request)
        outcome = doc.get("outcome", "resolved")
        if not isinstance(outcome, str):
            return _error(400, "outcome must be a string")
        now = now_ms()
        return await _submit(
            gateway, {"k": "close", "t": now, "conv": conv, "outcome": outcome}
        )

    routes.post("/api/conversations/{conv}/transfer")(
        _conv_event("transfer", {"desk": int, "queue": str, "keep_time": bool})
    )
    routes.post("/api/conversations/{conv}/escalate")(_conv_event("escalate", {"note": str}))
    routes.post("/api/conversations/{conv}/assign")(
        _conv_event("assign", {"desk": int, "force": bool})
    )

    @routes.post("/api/desks/{desk}/presence")
    async def presence(request):
        desk = _int_param(request, "desk")
        doc = await _body(request)
        state = doc.get("state")
        if not isinstance(state, str):
            return _error(400, "state must be a string")
        event = {"k": "presence", "t": now_ms(), "desk": desk, "state": state}
        if "reason" in doc:
            event["reason"] = doc["reason"]
        return await _submit(gateway, event)

    app = web.Application(client_max_size=64 * 1024)
    app["gateway"] = gateway
    app.add_routes(routes)
    return app


async def start(gateway, sock):
    """Serve on `sock`, the listening socket startup.bind_console made."""
    runner = web.AppRunner(make_app(gateway), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    gateway.log.info("console_listening", url="http://%s:%d" % (host, port))
    return runner
