"""The agents' console API on the branch LAN (JSON over HTTP, aiohttp).

GET  /api/state                          desks, queues, outboxes, metrics
GET  /api/conversations/{id}             one open conversation with its messages (state
                                         self_service, queued, offered with its
                                         offer_deadline, active, wrapup, scheduled or
                                         remote) and "customer_profile": the customer's
                                         profile and past conversations (as below)
POST /api/conversations/{id}/accept      {}: take an offer up (so does the first reply)
POST /api/conversations/{id}/reply       {"text": "..."}: send an SMS to the customer
POST /api/conversations/{id}/note        {"text": "..."}: an internal note, never sent
POST /api/conversations/{id}/wrapup      {}: done with the customer, writing the record
POST /api/conversations/{id}/close       {"outcome": "resolved", "disposition": "info",
                                          "summary": "..."}: what the queue requires
POST /api/conversations/{id}/callback_outcome  {"outcome": "reached" | "no_answer" |
                                          "retry", "at": <ms, for retry>}
GET  /api/conversations/{id}/templates   the canned replies of its queue, filled in
                                         (null and the reason when a value is missing)
POST /api/conversations/{id}/templates/{name}  {}: one filled in: {"text": "..."}
POST /api/conversations/{id}/transfer    {"desk": 2} or {"queue": "loans", "keep_time": true}
POST /api/conversations/{id}/escalate    {"note": "..."}: hand over to head office
POST /api/conversations/{id}/assign      {"desk": 2, "force": false}: a supervisor's choice
POST /api/desks/{desk}/presence          {"state": "available" | "break" | "offline",
                                          "reason": 3}
GET  /api/customers/{number}             profile (name, lang, tags, vip, notes, first
                                         and last contact) and every past conversation,
                                         newest first, with the open one if any
POST /api/customers/{number}             {"name", "lang", "tags", "vip", "notes"}: edit
POST /api/customers/{number}/erase       {}: erase the number's transcripts everywhere
GET  /api/wrapup                         disposition codes, their labels, and the fields
                                         each queue requires to close
GET  /api/handover?desk=N                hand-over notes for desk N and the branch
POST /api/handover                       {"desk": 2, "text": "..."} (no desk: the branch)

Every change goes through the gateway's journaled event path; a request the core
rejects answers 409 with the reason, malformed input 400, a conversation that is not
open 404 (GET and POST alike). Every error answer is JSON: {"error": "..."}.
"""

import json

from aiohttp import web

from branchline.core import events
from branchline.core.branch import Rejected
from branchline.ports.cpython.clock import now_ms
from branchline.core.history import MAX_THREAD, empty_profile
from branchline.text import is_digits

MAX_BODY = 64 * 1024  # far above any request the console takes; an SMS reply is ~1 KB


def _error(status, reason):
    return web.json_response({"error": reason}, status=status)


def _refuse(exc_class, reason):
    """An aiohttp HTTP exception carrying the console's JSON error body."""
    return exc_class(text=json.dumps({"error": reason}), content_type="application/json")


@web.middleware
async def _json_errors(request, handler):
    """Every error answer is JSON, aiohttp's own too (404 of an unknown path, 405, 413),
    so the agents' pages and scripts handle one shape."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or e.content_type == "application/json":
            raise
        answer = _error(e.status, e.reason.lower() if e.status != 413 else
                        "body too large (at most %d bytes)" % MAX_BODY)
        if "Allow" in e.headers:  # 405 says which methods would do
            answer.headers["Allow"] = e.headers["Allow"]
        return answer
    except Exception as e:  # a bug: one log line, and a JSON 500 for the client
        request.app["gateway"].log.error("console_failed", path=request.path, reason=repr(e))
        return _error(500, "internal error")


def _int_param(request, name):
    # ASCII digits only: int() also takes "1_0" and other scripts' digits ("١").
    text = request.match_info[name]
    if not is_digits(text):
        raise _refuse(web.HTTPBadRequest, "%s must be an integer" % name)
    return int(text)


def _conversation_id(request):
    """The open conversation the path names; 404 for any other, whatever the method."""
    conv = _int_param(request, "conv")
    if conv not in request.app["gateway"].core.conversations:
        raise _refuse(web.HTTPNotFound, "no open conversation %d" % conv)
    return conv


async def _body(request):
    if not request.body_exists:
        return {}  # e.g. accept, which needs nothing more than its path
    try:
        doc = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise _refuse(web.HTTPBadRequest, "body is not JSON")
    except RecursionError:  # the json module gives up on deep nesting this way
        raise _refuse(web.HTTPBadRequest, "body is nested too deeply")
    if not isinstance(doc, dict):
        raise _refuse(web.HTTPBadRequest, "body must be a JSON object")
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


def _event(kind, t, doc, **fixed):
    """The `kind` event from the path's `fixed` fields and the body's others; a body
    that does not fit the event's schema (core/events.py) is a 400 naming the field."""
    event = {"k": kind, "t": t}
    event.update(fixed)
    for name in doc:
        if name in fixed or name not in events.field_names(kind):
            raise _refuse(web.HTTPBadRequest, "unknown field %s" % name)
        event[name] = doc[name]
    try:
        events.check(event)
    except events.EventError as e:
        raise _refuse(web.HTTPBadRequest, e.detail)
    return event


def _number(request):
    """A phone number (or sender name) from the path: printable, no spaces."""
    number = request.match_info["number"]
    if not number or len(number) > 32 or any(c.isspace() or not c.isprintable() for c in number):
        raise _refuse(web.HTTPBadRequest, "not a phone number: %r" % number[:40])
    return number


def _customer_view(gateway, number):
    """The profile and thread of `number`: the index's closed conversations and the
    open one from the core; None when neither knows the number."""
    doc = gateway.history.index.customer(number, MAX_THREAD)
    conv = gateway.core.open_conversation_of(number)
    if doc is None and conv is None:
        return None
    if doc is None:
        doc = empty_profile(number)
        doc["conversations"] = []
    doc["open"] = conv.as_dict() if conv is not None else None
    return doc


def _conv_event(kind):
    """POST /api/conversations/{id}/<kind>: the body holds the event's other fields."""

    async def handler(request):
        conv = _conversation_id(request)
        event = _event(kind, now_ms(), await _body(request), conv=conv)
        return await _submit(request.app["gateway"], event)

    return handler


def make_app(gateway):
    routes = web.RouteTableDef()

    @routes.get("/api/state")
    async def state(request):
        return web.json_response(gateway.core.state_summary())

    @routes.get("/api/conversations/{conv}")
    async def conversation(request):
        conv = gateway.core.conversations[_conversation_id(request)]
        doc = conv.as_dict()
        history = gateway.history.index.customer(conv.customer, MAX_THREAD)
        doc["customer_profile"] = history
        return web.json_response(doc)

    for kind in ("accept", "reply", "close", "transfer", "escalate", "assign", "note",
                 "wrapup", "callback_outcome"):
        routes.post("/api/conversations/{conv}/" + kind)(_conv_event(kind))

    def _name_of(conv_id):
        profile = gateway.history.index.customer(gateway.core.conversations[conv_id].customer, 0)
        return profile["name"] if profile else None

    @routes.get("/api/conversations/{conv}/templates")
    async def templates_of(request):
        conv_id = _conversation_id(request)
        core = gateway.core
        out = []
        for name in core.service.templates.names_for(core.conversations[conv_id].queue):
            try:
                out.append({"name": name, "text": core.render_template(conv_id, name,
                                                                      _name_of(conv_id))})
            except Rejected as e:
                out.append({"name": name, "text": None, "missing": str(e)})
        return web.json_response({"templates": out})

    @routes.post("/api/conversations/{conv}/templates/{name}")
    async def template(request):
        conv_id = _conversation_id(request)
        await _body(request)
        try:
            text = gateway.core.render_template(conv_id, request.match_info["name"],
                                                _name_of(conv_id))
        except Rejected as e:
            return _error(409, str(e))
        return web.json_response({"text": text})

    @routes.get("/api/customers/{number}")
    async def customer(request):
        number = _number(request)
        doc = _customer_view(gateway, number)
        if doc is None:
            raise _refuse(web.HTTPNotFound, "no customer %s" % number)
        return web.json_response(doc)

    @routes.post("/api/customers/{number}")
    async def edit_customer(request):
        event = _event("customer", now_ms(), await _body(request), customer=_number(request))
        return await _submit(gateway, event)

    @routes.post("/api/customers/{number}/erase")
    async def erase(request):
        event = _event("erase", now_ms(), await _body(request), customer=_number(request))
        return await _submit(gateway, event)

    @routes.get("/api/wrapup")
    async def wrapup(request):
        d = gateway.core.service.dispositions
        return web.json_response({
            "dispositions": [{"code": c, "label": d.labels[c]} for c in d.codes],
            "required": d.required})

    @routes.get("/api/handover")
    async def handover(request):
        desk = request.query.get("desk", "0")
        if not is_digits(desk):
            raise _refuse(web.HTTPBadRequest, "desk must be an integer")
        notes = gateway.core.handover
        return web.json_response({"branch": notes.get(0, []), "desk": notes.get(int(desk), [])
                                  if desk != "0" else []})

    @routes.post("/api/handover")
    async def add_handover(request):
        return await _submit(gateway, _event("handover", now_ms(), await _body(request)))

    @routes.post("/api/desks/{desk}/presence")
    async def presence(request):
        desk = _int_param(request, "desk")
        if desk not in gateway.core.desks:
            raise _refuse(web.HTTPNotFound, "no desk %d" % desk)
        event = _event("presence", now_ms(), await _body(request), desk=desk)
        return await _submit(gateway, event)

    app = web.Application(client_max_size=MAX_BODY, middlewares=[_json_errors])
    app["gateway"] = gateway
    app.add_routes(routes)
    return app


async def start(gateway, sock):
    """Serve on `sock`, the listening socket startup.bind_console made."""
    runner = web.AppRunner(make_app(gateway), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    shown = "[%s]" % host if ":" in host else host  # an IPv6 address in a URL
    gateway.log.info("console_listening", url="http://%s:%d" % (shown, port))
    return runner
