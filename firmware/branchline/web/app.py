"""The console as a microdot application: the same code on CPython and MicroPython.

The host (ports/cpython/app.py's Gateway, the ESP32 edition's later) gives it:
`core`, `cfg`, `log`, `history.index`, `submit(event)` (an awaitable of the effects,
raising branch.Rejected), `run_blocking(f, *args)` (a password check must not stall
the serial lines where a thread can take it), `save_accounts(doc)` and `audit(record)`.

Every request but the login, the pages and their assets needs a session; every
change needs the session's CSRF token in X-CSRF-Token and must come from the page's
own origin (Origin and Sec-Fetch-Site, where the browser sends them). Answers are the
one JSON encoding (core/jsonfmt.py); errors are {"error": "..."} with their status.
"""

from microdot import Microdot, Request
from microdot import microdot as _microdot
from microdot.sse import with_sse

from branchline import passwords, sign
from branchline.core.branch import Rejected
from branchline.core.config import UI_LANGUAGES
from branchline.proto import pdu
from branchline.web import access, api, pages
from branchline.web.accounts import Accounts
from branchline.web.answers import Refusal, error, json_response
from branchline.web.live import Feed
from branchline.web.sessions import Sessions

COOKIE = "bl_session"
# A request's body is at most what the longest reply allowed needs (4 UTF-8 bytes for
# each of an SMS part's 160 characters, at worst) and 1 KB of the rest: bodies are read
# whole, and an ESP32 cannot hold a large one.
BODY_PER_PART = 160 * 4
BODY_BASE = 1024
KEEPALIVE_S = 15  # a comment line this often: a page notices a dead link, and so do we
# Headers of every answer. The pages load only their own scripts and styles (no inline
# script, nothing from elsewhere), cannot be framed, and send no referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
CHANGING = ("POST", "PUT", "PATCH", "DELETE")


class Console:
    def __init__(self, host, secret, saved_accounts, now_ms, random_bytes, boot, tls=False):
        self.host = host
        self.now_ms = now_ms
        self.tls = tls
        cfg = host.cfg["console"]
        self.accounts = Accounts(cfg, saved_accounts)
        self.sessions = Sessions(secret, cfg["session_h"], random_bytes,
                                 cfg["remembered_logouts"])
        self.feed = Feed(boot)
        self.recent_audit = []
        self._exception = None  # the last one microdot caught, for the log line
        self.max_body = BODY_BASE + BODY_PER_PART * host.cfg["max_reply_parts"]
        self.app = self._build()
        # microdot prints a traceback of every exception it catches (a request it cannot
        # parse, a refusal raised by a handler): the error handlers log one line instead.
        _microdot.print_exception = self._caught
        Request.max_content_length = self.max_body  # refused (413) before it is read
        Request.max_body_length = self.max_body

    def _caught(self, exc):
        self._exception = exc

    # -- what changed, from the host's event path -----------------------------------------
    def changed(self, event, effects):
        """Note what `event` and its `effects` changed (published with `publish`)."""
        feed = self.feed
        core = self.host.core
        kind = event["k"]
        if kind == "uplink_ack":
            return
        if "conv" in event:
            feed.touch_conv(event["conv"])
        if "desk" in event:
            feed.touch_desk(event["desk"])
        number = event.get("from") or event.get("customer")
        if number is not None:
            conv = core.open_conversation_of(number)
            if conv is not None:
                feed.touch_conv(conv.id)
        for effect in effects:
            what = effect[0]
            if what == "delivery":
                feed.touch_conv(effect[1])
            elif what == "send_sms":  # a tick's position message, say: in the thread
                conv = core.open_conversation_of(effect[3])
                if conv is not None:
                    feed.touch_conv(conv.id)
            elif what in ("offered", "accepted", "returned"):
                feed.touch_conv(effect[1])
                if effect[2] is not None:
                    feed.touch_desk(effect[2])
                if what == "offered":
                    conv = core.conversations.get(effect[1])
                    if conv is not None:
                        feed.offer(conv.id, effect[2], conv.at(conv.offer_deadline))
            elif what == "led":
                feed.touch_desk(effect[1])
        feed.touch_board()

    def publish(self):
        self.feed.publish()

    # -- sessions and safety ------------------------------------------------------------
    def account_of(self, request):
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        return self.sessions.account(cookie, self.accounts, self.now_ms())

    def _same_origin(self, request):
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        if origin is not None:
            host = request.headers.get("Host", "")
            if origin not in ("http://" + host, "https://" + host):
                return False
        return True

    async def _guard(self, request):
        """Before every request: who it is, and whether they may change anything."""
        path = request.path
        if request.method in CHANGING and not self._same_origin(request):
            self.audit(None, request, "refused", "cross-site " + path, False)
            return error(403, "cross-site request refused")
        if not path.startswith("/api/") or path == "/api/login":
            return None
        account = self.account_of(request)
        if account is None:
            return error(401, "log in first")
        request.g.account = account
        if request.method in CHANGING:
            token = request.headers.get("X-CSRF-Token", "")
            expected = self.sessions.csrf(request.cookies[COOKIE])
            if not token or not sign.same(token, expected):
                self.audit(account, request, "refused", "CSRF token missing or wrong", False)
                return error(403, "CSRF token missing or wrong: reload the page")
        if account.must_change and path not in ("/api/me", "/api/me/password", "/api/logout"):
            return error(403, "change your password first")
        return None

    def audit(self, account, request, action, detail, ok=True):
        addr = request.client_addr[0] if request and request.client_addr else None
        record = {"t": self.now_ms(), "user": account.user if account else None,
                  "action": action, "detail": detail, "ok": ok, "from": addr}
        self.recent_audit.append(record)
        if len(self.recent_audit) > self.host.cfg["console"]["audit_kept"]:
            self.recent_audit.pop(0)
        self.host.audit(record)

    def cookie_header(self, value, max_age):
        parts = ["%s=%s" % (COOKIE, value), "Path=/", "HttpOnly", "SameSite=Strict",
                 "Max-Age=%d" % max_age]
        if self.tls:
            parts.append("Secure")
        return "; ".join(parts)

    # -- the application -------------------------------------------------------------------
    def _build(self):
        app = Microdot()
        console = self

        @app.before_request
        async def guard(request):
            return await console._guard(request)

        async def headers(request, response):
            for name, value in SECURITY_HEADERS.items():
                response.headers[name] = value
            return response

        app.after_request(headers)
        app.after_error_request(headers)  # the errors' answers too

        @app.errorhandler(Refusal)
        async def refused(request, exc):
            return error(exc.status, exc.reason)

        @app.errorhandler(access.Forbidden)
        async def forbidden(request, exc):
            console.audit(getattr(request.g, "account", None), request, "refused", str(exc),
                          False)
            return error(403, str(exc))

        @app.errorhandler(Rejected)
        async def rejected(request, exc):
            return error(409, str(exc))

        @app.errorhandler(Exception)
        async def failed(request, exc):
            console.host.log.error("console_failed", path=request.path if request else None,
                                   reason=repr(exc)[:200])
            return error(500, "internal error")

        @app.errorhandler(400)
        async def bad_request(request):
            # Only a request microdot could not parse gets here (the handlers raise
            # Refusal): say what was wrong with it, once.
            console.host.log.warn("console_bad_request", reason=repr(console._exception)[:200])
            return error(400, "bad request")

        for status, reason in ((404, "not found"),
                               (413, "body too large (at most %d bytes)" % self.max_body)):
            app.errorhandler(status)(_fixed_error(status, reason))

        @app.errorhandler(405)
        async def not_allowed(request):
            answer = error(405, "method not allowed")
            answer.headers["Allow"] = app.default_options_handler(request)["Allow"]
            return answer

        self._accounts_routes(app)
        api.routes(app, self)
        pages.routes(app)

        @app.get("/api/events")
        @with_sse
        async def events(request, sse):
            await console.stream(request, sse)

        return app

    def _accounts_routes(self, app):
        console = self

        @app.post("/api/login")
        async def login(request):
            doc = api.body(request)
            user, password = doc.get("user"), doc.get("password")
            if not isinstance(user, str) or not isinstance(password, str):
                raise Refusal(400, "user and password are needed")
            now = console.now_ms()
            addr = request.client_addr[0] if request.client_addr else "?"
            refusal = console.accounts.refusal(user, addr, now)
            if refusal is not None:
                console.audit(None, request, "login", "%s: %s" % (user[:40], refusal), False)
                return error(429, refusal)
            account = console.accounts.get(user)
            ok = account is not None and await console.host.run_blocking(
                passwords.verify, password, account.password)
            locked = console.accounts.outcome(user, addr, ok, console.now_ms())
            if not ok:
                console.audit(None, request, "login", "%s: wrong user or password%s" % (
                    user[:40], " (locked)" if locked else ""), False)
                return error(401, "wrong user or password")
            console.audit(account, request, "login", account.role)
            return console.new_session(account)

        @app.post("/api/logout")
        async def logout(request):
            console.sessions.revoke(request.cookies[COOKIE], console.now_ms())
            console.audit(request.g.account, request, "logout", "")
            answer = json_response({"ok": True})
            answer.headers["Set-Cookie"] = [console.cookie_header("", 0)]
            return answer

        @app.get("/api/me")
        async def me(request):
            return json_response(console.me(request.g.account, request.cookies[COOKIE]))

        @app.post("/api/me/password")
        async def change_password(request):
            account = request.g.account
            doc = api.body(request)
            old, new = doc.get("old"), doc.get("new")
            if not isinstance(old, str) or not isinstance(new, str):
                raise Refusal(400, "old and new are needed")
            problem = console.accounts.new_password_problem(account, new)
            if problem is not None:
                raise Refusal(400, problem)
            if not await console.host.run_blocking(passwords.verify, old, account.password):
                console.audit(account, request, "password", "wrong current password", False)
                raise Refusal(403, "the current password is wrong")
            iterations = passwords.parse(account.password)[0]
            new_hash = await console.host.run_blocking(passwords.make, new, iterations)
            console.accounts.set_password(account, new_hash)
            console.host.save_accounts(console.accounts.dump())
            console.audit(account, request, "password", "changed")
            return console.new_session(account)  # the old cookie died with the password

        @app.post("/api/me/lang")
        async def set_lang(request):
            lang = api.body(request).get("lang")
            if lang not in UI_LANGUAGES:
                raise Refusal(400, "lang must be one of %s" % ", ".join(UI_LANGUAGES))
            console.accounts.set_lang(request.g.account, lang)
            console.host.save_accounts(console.accounts.dump())
            return json_response(console.me(request.g.account, request.cookies[COOKIE]))

    def new_session(self, account):
        """The answer that logs `account` in: its cookie, and /api/me's document."""
        cookie = self.sessions.issue(account, self.now_ms())
        answer = json_response(self.me(account, cookie))
        answer.headers["Set-Cookie"] = [self.cookie_header(cookie, self.sessions.lifetime_s)]
        return answer

    def me(self, account, cookie):
        doc = account.public()
        doc["csrf"] = self.sessions.csrf(cookie) if cookie else None
        doc["site"] = self.host.cfg["site"]
        core = self.host.core
        doc["desks"] = [{"desk": d, "name": core.desk_name(d)} for d in core.desks]
        doc["queues"] = list(core.queue_names)
        doc["max_parts"] = self.host.cfg["max_reply_parts"]
        doc["sms"] = pdu.counting_rules()
        return doc

    # -- the live feed ---------------------------------------------------------------------
    async def stream(self, request, sse):
        """Notices as server-sent events until the page goes or its session ends."""
        feed = self.feed
        n, items = feed.since(request.headers.get("Last-Event-ID"))
        await sse.send('{"hello":true}', event_id=feed.id_of(n), retry=2)
        while True:
            for n, text in items:
                await sse.send(text, event_id=feed.id_of(n))
            if len(sse.queue) > feed.size:
                # A page whose link stalled (its notices pile up unsent): end the stream
                # rather than hold them; it resumes from Last-Event-ID when it can.
                return
            if self.account_of(request) is None:
                await sse.send('{"logout":true}')
                return
            if not await feed.wait(KEEPALIVE_S):
                await sse.send("keep-alive", comment=True)
            items = feed.after(n)


def _fixed_error(status, reason):
    async def handler(request):
        return error(status, reason)

    return handler

