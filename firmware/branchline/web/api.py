"""The console's JSON endpoints (docs/console.md lists them with their bodies).

Every change goes through the host's journaled event path; a request the core rejects
answers 409 with the reason, malformed input 400, what the account may not do 403
(web/access.py), a conversation that is not open 404 (GET and POST alike).
"""

import json

from microdot import Response

from branchline.core import events
from branchline.core.branch import Rejected
from branchline.core.board import board
from branchline.core.history import MAX_THREAD, empty_profile
from branchline.core.redact import mask_number
from branchline.text import is_digits
from branchline.web import access, chart
from branchline.web.answers import Refusal, json_response

# The events a desk sends about one of its conversations: POST /api/conversations/<id>/<kind>
CONVERSATION_EVENTS = ("accept", "reply", "note", "wrapup", "close", "callback_outcome",
                       "transfer", "escalate", "assign")
PREVIEW_CHARS = 80


def body(request):
    """The request's JSON object ({} when it has none)."""
    raw = request.body
    if not raw:
        return {}
    try:
        doc = json.loads(raw.decode())
    except (ValueError, UnicodeError):
        raise Refusal(400, "body is not JSON")
    except RuntimeError:  # deep nesting: RecursionError on CPython
        raise Refusal(400, "body is nested too deeply")
    if not isinstance(doc, dict):
        raise Refusal(400, "body must be a JSON object")
    return doc


def _int(text, name):
    # ASCII digits only: int() also takes "1_0" and other scripts' digits ("١").
    if not is_digits(text) or len(text) > 9:
        raise Refusal(400, "%s must be an integer" % name)
    return int(text)


def _event(kind, t, doc, **fixed):
    """The `kind` event from the path's `fixed` fields and the body's others; a body
    that does not fit the event's schema (core/events.py) is a 400 naming the field."""
    event = {"k": kind, "t": t}
    event.update(fixed)
    for name in doc:
        if name in fixed or name not in events.field_names(kind):
            raise Refusal(400, "unknown field %s" % name)
        event[name] = doc[name]
    try:
        events.check(event)
    except events.EventError as e:
        raise Refusal(400, e.detail)
    return event


def _number(text):
    """A phone number (or sender name) from the path: printable ASCII, no spaces."""
    if not text or len(text) > 32 or any(not "!" <= c <= "~" for c in text):
        raise Refusal(400, "not a phone number: %r" % text[:40])
    return text.replace("%2B", "+").replace("%2b", "+")


def _in_count(conv):
    thread = conv.thread
    return sum(1 for i in range(0, len(thread), 3) if thread[i] == "in")


def routes(app, console):
    host = console.host
    seen = {}  # (user, conversation) -> the customer's messages it had when last read
    max_seen = host.cfg["console"]["remembered_reads"]

    def conversation_for(request, conv_text, action):
        conv = host.core.conversations.get(_int(conv_text, "conv"))
        if conv is None:
            raise Refusal(404, "no open conversation %s" % conv_text)
        access.conversation(request.g.account, conv, action)
        return conv

    async def submit(request, event, what):
        try:
            effects = await host.submit(event)
        except Rejected as e:
            console.audit(request.g.account, request, what, "%s: %s" % (_target(event), e),
                          False)
            raise
        refused = [effect[1] for effect in effects if effect[0] == "refused"]
        console.audit(request.g.account, request, what, _target(event), not refused)
        if refused:
            raise Refusal(409, "; ".join(refused))
        return json_response({"ok": True, "effects": len(effects)})

    def profile_name(number):
        profile = host.history.index.customer(number, 0)
        return profile["name"] if profile else None

    def summary(account, conv):
        key = (account.user, conv.id)
        thread = conv.thread
        last = len(thread) - 3
        return {
            "id": conv.id, "state": conv.state, "kind": conv.kind, "queue": conv.queue,
            "desk": conv.desk, "customer": conv.customer, "name": profile_name(conv.customer),
            "created": conv.created, "offer_deadline": conv.at(conv.offer_deadline),
            "waiting_since": conv.at(conv.awaiting),
            "unread": _in_count(conv) - seen.get(key, 0),
            "last": {"dir": thread[last], "text": thread[last + 2][:PREVIEW_CHARS]}
            if thread else None,
        }

    @app.get("/api/state")
    async def state(request):
        return json_response(host.core.state_summary())

    @app.get("/api/my")
    async def mine(request):
        account = request.g.account
        access.customer_data(account)
        out = []
        for conv in host.core.conversations.values():
            if conv.desk is None or conv.state not in ("offered", "active", "wrapup",
                                                        "scheduled"):
                continue
            if account.role == access.AGENT and conv.desk != account.desk:
                continue
            out.append(summary(account, conv))
        out.sort(key=lambda c: (c["state"] != "offered", c["created"]))
        desk = host.core.desk_status(account.desk) if account.desk else None
        return json_response({"conversations": out, "desk": desk})

    @app.get("/api/queue")
    async def queue(request):
        access.supervisor(request.g.account, "see the waiting customers")
        now = console.now_ms()
        out = []
        core = host.core
        for conv in core.conversations.values():
            if conv.state == "queued":
                out.append({"id": conv.id, "queue": conv.queue, "customer": conv.customer,
                            "kind": conv.kind, "waited_ms": now - conv.at(conv.queued),
                            "position": core.router.position(conv.id)})
        out.sort(key=lambda c: -c["waited_ms"])
        return json_response({"waiting": out})

    @app.get("/api/board")
    async def wallboard(request):
        return json_response(board(host.core, console.now_ms()))

    @app.get("/api/board/chart.svg")
    async def wallboard_chart(request):
        doc = board(host.core, console.now_ms())
        # Its address names the intervals it draws (web/assets/app.js), so the page may
        # keep it until an interval ends.
        return Response(chart.svg(doc, request.args.get("lang", "en")), 200,
                        {"Content-Type": "image/svg+xml; charset=utf-8",
                         "Cache-Control": "private, max-age=900"})

    @app.get("/api/audit")
    async def audit(request):
        access.supervisor(request.g.account, "read the audit log")
        return json_response({"audit": console.recent_audit})

    @app.get("/api/conversations/<conv>")
    async def conversation(request, conv):
        conv = conversation_for(request, conv, "read")
        doc = conv.as_dict()
        doc["customer_profile"] = host.history.index.customer(conv.customer, MAX_THREAD)
        if len(seen) >= max_seen:
            for key in [k for k in seen if k[1] not in host.core.conversations]:
                del seen[key]
        if len(seen) < max_seen:
            seen[(request.g.account.user, conv.id)] = _in_count(conv)
        return json_response(doc)

    def conversation_event(kind):
        async def handler(request, conv):
            conv = conversation_for(request, conv, kind)
            doc = body(request)
            if kind == "assign" or (kind == "transfer" and doc.get("force")):
                access.supervisor(request.g.account, "assign or force")
            now = console.now_ms()
            if kind == "callback_outcome" and "in_s" in doc:
                # "Call again in an hour", on the appliance's clock, not the PC's.
                doc = dict(doc)
                in_s = doc.pop("in_s")
                if not isinstance(in_s, int) or isinstance(in_s, bool) or not 0 < in_s <= 604800:
                    raise Refusal(400, "in_s must be 1..604800 seconds")
                doc["at"] = now + in_s * 1000
            event = _event(kind, now, doc, conv=conv.id)
            return await submit(request, event, kind)

        return handler

    for kind in CONVERSATION_EVENTS:
        app.post("/api/conversations/<conv>/" + kind)(conversation_event(kind))

    @app.get("/api/conversations/<conv>/templates")
    async def templates_of(request, conv):
        conv = conversation_for(request, conv, "templates")
        core = host.core
        out = []
        name = profile_name(conv.customer)
        for template in core.service.templates.names_for(conv.queue):
            try:
                out.append({"name": template,
                            "text": core.render_template(conv.id, template, name)})
            except Rejected as e:
                out.append({"name": template, "text": None, "missing": str(e)})
        return json_response({"templates": out})

    @app.post("/api/conversations/<conv>/templates/<name>")
    async def template(request, conv, name):
        conv = conversation_for(request, conv, "templates")
        body(request)
        text = host.core.render_template(conv.id, name, profile_name(conv.customer))
        return json_response({"text": text})

    def customer_for(request, number):
        number = _number(number)
        access.customer(request.g.account, host.core.open_conversation_of(number))
        return number

    @app.get("/api/customers/<number>")
    async def customer(request, number):
        number = customer_for(request, number)
        doc = host.history.index.customer(number, MAX_THREAD)
        conv = host.core.open_conversation_of(number)
        if doc is None and conv is None:
            raise Refusal(404, "no customer %s" % number)
        if doc is None:
            doc = empty_profile(number)
            doc["conversations"] = []
        doc["open"] = conv.as_dict() if conv is not None else None
        return json_response(doc)

    @app.post("/api/customers/<number>")
    async def edit_customer(request, number):
        number = customer_for(request, number)
        event = _event("customer", console.now_ms(), body(request), customer=number)
        return await submit(request, event, "customer")

    @app.post("/api/customers/<number>/erase")
    async def erase(request, number):
        access.supervisor(request.g.account, "erase a customer")
        event = _event("erase", console.now_ms(), body(request), customer=_number(number))
        return await submit(request, event, "erase")

    @app.get("/api/wrapup")
    async def wrapup(request):
        d = host.core.service.dispositions
        return json_response({
            "dispositions": [{"code": c, "label": d.labels[c]} for c in d.codes],
            "required": d.required})

    @app.get("/api/handover")
    async def handover(request):
        account = request.g.account
        desk = _int(request.args.get("desk", "0"), "desk")
        if desk:
            access.desk(account, desk)
        notes = host.core.handover
        return json_response({"branch": notes.get(0, []), "desk": notes.get(desk, [])
                              if desk else []})

    @app.post("/api/handover")
    async def add_handover(request):
        event = _event("handover", console.now_ms(), body(request))
        if event.get("desk"):
            access.desk(request.g.account, event["desk"])
        return await submit(request, event, "handover")

    @app.post("/api/desks/<desk>/presence")
    async def presence(request, desk):
        desk = _int(desk, "desk")
        if desk not in host.core.desks:
            raise Refusal(404, "no desk %d" % desk)
        access.desk(request.g.account, desk)
        event = _event("presence", console.now_ms(), body(request), desk=desk)
        return await submit(request, event, "presence")


def _target(event):
    """What an audit record says a change was about: never a whole phone number (the
    audit log outlives an erasure)."""
    for key in ("conv", "desk"):
        if key in event:
            return "%s %s" % (key, event[key])
    if "customer" in event:
        return "customer " + mask_number(event["customer"])
    return event["k"]
