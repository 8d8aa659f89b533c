"""The agents' console API on the branch LAN (JSON over HTTP, aiohttp).

GET  /api/state                          desks, queues, outboxes, metrics
GET  /api/conversations/{id}             one open conversation with its messages
POST /api/conversations/{id}/reply       {"text": "..."}: send an SMS to the customer
POST /api/conversations/{id}/close       {"outcome": "resolved"}: wrap up
POST /api/desks/{desk}/presence          {"state": "available" | "break" | "offline"}

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
    return web.json_response({"ok": True, "effects": len(effects)})


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

    @routes.post("/api/desks/{desk}/presence")
    async def presence(request):
        desk = _int_param(request, "desk")
        doc = await _body(request)
        state = doc.get("state")
        if not isinstance(state, str):
            return _error(400, "state must be a string")
        return await _submit(
            gateway, {"k": "presence", "t": now_ms(), "desk": desk, "state": state}
        )

    app = web.Application(client_max_size=64 * 1024)
    app.add_routes(routes)
    return app


async def start(gateway, cfg):
    runner = web.AppRunner(make_app(gateway), access_log=None)
    await runner.setup()
    host = cfg.get("host", "127.0.0.1")
    port = int(cfg.get("port", 8080))
    site = web.TCPSite(runner, host, port)
    await site.start()
    gateway.log.info("console_listening", url="http://%s:%d" % (host, port))
    return runner
