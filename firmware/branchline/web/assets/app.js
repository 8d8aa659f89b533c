// The agents' console and the supervisor's wallboard. Everything a customer or an
// agent wrote is put on the page as text (textContent), never as HTML.
"use strict";

const S = {
  me: null, lang: "en", view: "desk", convs: [], desk: null, current: null, doc: null,
  templates: [], wrapup: null, board: null, queue: [], audit: [], source: null,
  announced: {}, pending: null, boardPending: null, flash: "",
};
const WALL = location.pathname === "/wall";

function t(key, vars) {
  const table = I18N[S.lang] || I18N.en;
  let text = table[key] || I18N.en[key] || key;
  for (const name in vars || {}) text = text.split("{" + name + "}").join(String(vars[name]));
  return text;
}

// el("div", {class: "x", onclick: f}, "text", child, ...): strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (S.me && S.me.csrf) headers["X-CSRF-Token"] = S.me.csrf;
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, credentials: "same-origin",
                               body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    setFlash(t("offline"));
    return { status: 0, doc: { error: t("offline") } };
  }
  const doc = await resp.json().catch(() => ({ error: resp.statusText }));
  if (resp.status === 401 && path !== "/api/login") {
    S.me = null;
    stopLive();
    render();
  }
  return { status: resp.status, doc };
}

function setFlash(text) {
  S.flash = text;
  const box = document.getElementById("flash");
  if (box) box.textContent = text;
}

// -- time ------------------------------------------------------------------------------
function ago(ms) {
  if (ms === null || ms === undefined) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m " + (s % 60) + "s"
    : Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}
function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString(S.lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}
function pm(value) { return value === null || value === undefined ? "–" : (value / 10).toFixed(1) + "%"; }
function secs(ms) { return ms === null || ms === undefined ? "–" : Math.round(ms / 1000) + "s"; }

// -- loading ---------------------------------------------------------------------------
async function start() {
  S.lang = (navigator.language || "en").startsWith("zh") ? "zh" : "en";
  const { status, doc } = await api("GET", "/api/me");
  if (status === 200) await signedIn(doc);
  else render();
  setInterval(tickTimers, 1000);
  document.addEventListener("keydown", shortcut);
}

async function signedIn(me) {
  S.me = me;
  S.lang = me.lang;
  if (me.must_change) { render(); return; }
  S.view = WALL || me.role === "technician" ? "board" : "desk";
  await refreshAll();
  startLive();
}

async function refreshAll() {
  if (S.me.role !== "technician" && !WALL) {
    await loadMine();
    if (S.current !== null) await loadCurrent();
  }
  if (S.view === "board" || S.me.role === "supervisor") await loadBoard();
  if (S.view === "queue") await loadQueue();
  if (S.view === "audit") await loadAudit();
  render();
}

async function loadMine() {
  const { status, doc } = await api("GET", "/api/my");
  if (status !== 200) return;
  S.convs = doc.conversations;
  S.desk = doc.desk;
  for (const c of S.convs) {
    if (c.state === "offered" && !S.announced[c.id]) announce(c);
  }
  if (S.current === null && S.convs.length) S.current = S.convs[0].id;
}

async function loadCurrent() {
  if (S.current === null) { S.doc = null; return; }
  const id = S.current;
  const { status, doc } = await api("GET", "/api/conversations/" + id);
  if (S.current !== id) return;
  if (status !== 200) { S.doc = null; S.current = null; return; }
  const changedConversation = !S.doc || S.doc.id !== id || S.doc.queue !== doc.queue;
  S.doc = doc;
  if (changedConversation) {
    const tpl = await api("GET", "/api/conversations/" + id + "/templates");
    S.templates = tpl.status === 200 ? tpl.doc.templates : [];
  }
  if (!S.wrapup) {
    const w = await api("GET", "/api/wrapup");
    if (w.status === 200) S.wrapup = w.doc;
  }
  const mine = S.convs.find((c) => c.id === id);
  if (mine) mine.unread = 0;
}

async function loadBoard() {
  const { status, doc } = await api("GET", "/api/board");
  if (status === 200) S.board = doc;
}
async function loadQueue() {
  const { status, doc } = await api("GET", "/api/queue");
  if (status === 200) S.queue = doc.waiting;
}
async function loadAudit() {
  const { status, doc } = await api("GET", "/api/audit");
  if (status === 200) S.audit = doc.audit;
}

// -- live updates ------------------------------------------------------------------------
function startLive() {
  stopLive();
  // EventSource reconnects by itself and sends Last-Event-ID: the appliance replays what
  // the page missed, or says "reset" and the page loads everything again.
  const source = new EventSource("/api/events");
  S.source = source;
  source.onmessage = (e) => notice(JSON.parse(e.data));
  source.onerror = () => setFlash(t("reconnecting"));
  source.onopen = () => setFlash("");
}
function stopLive() {
  if (S.source) S.source.close();
  S.source = null;
}

async function notice(n) {
  if (n.hello) return;
  if (n.logout) { S.me = null; stopLive(); render(); return; }
  if (n.reset) { await refreshAll(); return; }
  if (n.offer !== undefined) return;  // the list that follows shows it (and announces)
  if (WALL || S.me.role === "technician") { scheduleBoard(); return; }
  // Only what this page shows is fetched again: its desk's, or (a supervisor's page)
  // any conversation's.
  const everyDesk = S.me.role === "supervisor";
  const listTouched = (S.desk && n.desks.includes(S.desk.desk)) ||
    (everyDesk ? n.convs.length > 0 : n.convs.some((id) => S.convs.some((c) => c.id === id)));
  const currentTouched = S.current !== null && n.convs.includes(S.current);
  if (listTouched || currentTouched) {
    if (listTouched) {
      await loadMine();
      renderList();  // the list first: a new offer shows before its thread has loaded
    }
    if (currentTouched || S.doc === null) {
      await loadCurrent();
      renderThread();
    }
  }
  if (n.board) scheduleBoard();
}

function scheduleBoard() {
  if (S.boardPending) return;
  S.boardPending = setTimeout(async () => {
    S.boardPending = null;
    if (S.view === "board" || WALL) { await loadBoard(); renderBoard(); }
    else if (S.view === "queue") { await loadQueue(); render(); }
  }, 1000);  // a wallboard changes at most once a second: the desks' pages go first
}

let audio = null;
function announce(conv) {
  S.announced[conv.id] = true;
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.1;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch (e) { /* no sound where the browser allows none yet */ }
  if (window.Notification && Notification.permission === "granted") {
    new Notification(t("new_offer"), { body: conv.queue });
  }
  setFlash(t("new_offer") + ": " + conv.queue);
}

function tickTimers() {
  for (const node of document.querySelectorAll("[data-deadline]")) {
    const left = Number(node.dataset.deadline) - Date.now();
    node.textContent = left > 0 ? t("offer_left", { s: Math.ceil(left / 1000) }) : t("offer_expired");
  }
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = ago(Date.now() - Number(node.dataset.since));
  }
}

// -- rendering -------------------------------------------------------------------------
function render() {
  helpOverlay();
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  document.body.classList.toggle("wall", WALL);
  const root = document.getElementById("app");
  root.replaceChildren();
  if (!S.me) { root.append(loginView()); return; }
  if (S.me.must_change) { root.append(header(), passwordView()); return; }
  root.append(header());
  const main = el("main", { id: "main" });
  root.append(main);
  if (S.view === "board") main.append(boardView());
  else if (S.view === "queue") main.append(queueView());
  else if (S.view === "audit") main.append(auditView());
  else main.append(deskView());
  tickTimers();
}

// A notice redraws only the part of the desk it changed, and what the agent was typing
// (a reply, a note, the wrap-up) stays as it was, where it was.
function renderList() {
  if (S.view !== "desk") return;
  const side = document.querySelector(".desk > .side");
  if (!side) { render(); return; }
  side.replaceWith(sideView());
  tickTimers();
}
function renderThread() {
  if (S.view !== "desk") return;
  const section = document.querySelector(".desk > .conversation");
  if (!section) { render(); return; }
  const fresh = conversationSection();
  if (section.dataset.conv === fresh.dataset.conv) keepTyped(section, fresh);
  else section.replaceWith(fresh);
  // The list's "current" mark follows the conversation shown.
  for (const node of document.querySelectorAll(".convs .conv")) {
    const current = Number(node.dataset.conv) === S.current;
    node.classList.toggle("current", current);
    if (current) node.setAttribute("aria-current", "true"); else node.removeAttribute("aria-current");
  }
  tickTimers();
}
function keepTyped(old, fresh) {
  const focused = document.activeElement;
  const typed = [];
  for (const node of old.querySelectorAll("input[id], textarea[id], select[id]")) {
    typed.push([node.id, node.value, node === focused, node.selectionStart, node.selectionEnd]);
  }
  old.replaceWith(fresh);
  for (const [id, value, wasFocused, start, end] of typed) {
    const node = document.getElementById(id);
    if (!node || !fresh.contains(node)) continue;
    if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === value)) continue;
    node.value = value;
    node.dispatchEvent(new Event("input"));  // the SMS counter counts what is there
    if (wasFocused) {
      node.focus();
      if (start !== null && node.setSelectionRange) node.setSelectionRange(start, end);
    }
  }
}
function renderBoard() {
  const box = document.getElementById("board");
  if (box) box.replaceWith(boardView());
  tickTimers();
}

function header() {
  const me = S.me;
  const tabs = [];
  if (!WALL) {
    if (me.role !== "technician") tabs.push(["desk", t("tab_desk")]);
    if (me.role === "supervisor") tabs.push(["queue", t("tab_queue")]);
    tabs.push(["board", t("tab_board")]);
    if (me.role === "supervisor") tabs.push(["audit", t("tab_audit")]);
  }
  return el("header", { class: "top" },
    el("h1", {}, "branchline · " + me.site),
    el("nav", { "aria-label": t("views") }, tabs.map(([view, label]) =>
      el("button", { class: "tab", "aria-pressed": String(S.view === view),
                     onclick: () => switchView(view) }, label))),
    el("span", { class: "who" }, me.name + " (" + t("role_" + me.role) +
       (me.desk ? ", " + deskName(me.desk) : "") + ")"),
    WALL ? el("button", { onclick: () => document.documentElement.requestFullscreen() }, t("fullscreen")) : null,
    el("button", { onclick: toggleLang, lang: S.lang === "zh" ? "en" : "zh" }, S.lang === "zh" ? "English" : "中文"),
    el("button", { onclick: () => toggleHelp(true) }, t("help")),
    el("button", { onclick: logout }, t("logout")),
    el("p", { id: "flash", role: "status", "aria-live": "polite" }, S.flash));
}

async function switchView(view) {
  S.view = view;
  if (view === "board") await loadBoard();
  if (view === "queue") await loadQueue();
  if (view === "audit") await loadAudit();
  render();
}

function deskName(number) {
  const d = (S.me.desks || []).find((x) => x.desk === number);
  return d ? d.name : t("desk_n", { n: number });
}

async function toggleLang() {
  const lang = S.lang === "zh" ? "en" : "zh";
  const { status, doc } = await api("POST", "/api/me/lang", { lang });
  if (status === 200) { S.me = doc; S.lang = lang; }
  render();
}

async function logout() {
  await api("POST", "/api/logout", {});
  S.me = null;
  stopLive();
  render();
}

function loginView() {
  const error = el("p", { class: "error", role: "alert" });
  const user = el("input", { id: "login-user", name: "user", autocomplete: "username", required: true });
  const password = el("input", { id: "login-password", name: "password", type: "password",
                                 autocomplete: "current-password", required: true });
  const form = el("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    const { status, doc } = await api("POST", "/api/login", { user: user.value, password: password.value });
    if (status === 200) await signedIn(doc);
    else error.textContent = doc.error;
  } },
  el("h1", {}, "branchline"),
  el("label", { for: "login-user" }, t("user")), user,
  el("label", { for: "login-password" }, t("password")), password,
  el("button", { type: "submit" }, t("login")), error);
  return el("main", { id: "main" }, form);
}

function passwordView() {
  const error = el("p", { class: "error", role: "alert" });
  const old = el("input", { id: "pw-old", type: "password", autocomplete: "current-password", required: true });
  const fresh = el("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const again = el("input", { id: "pw-again", type: "password", autocomplete: "new-password", required: true });
  return el("main", { id: "main" }, el("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    if (fresh.value !== again.value) { error.textContent = t("pw_mismatch"); return; }
    const { status, doc } = await api("POST", "/api/me/password", { old: old.value, new: fresh.value });
    if (status === 200) await signedIn(doc);
    else error.textContent = doc.error;
  } },
  el("h2", {}, t("pw_change_first")),
  el("label", { for: "pw-old" }, t("pw_old")), old,
  el("label", { for: "pw-new" }, t("pw_new")), fresh,
  el("label", { for: "pw-again" }, t("pw_again")), again,
  el("button", { type: "submit" }, t("pw_save")), error));
}

// -- the desk ------------------------------------------------------------------------------
function deskView() {
  return el("div", { class: "desk" }, sideView(), conversationSection());
}

function sideView() {
  return el("section", { class: "side", "aria-label": t("my_conversations") },
    presenceBar(),
    el("h2", {}, t("my_conversations")),
    S.convs.length ? el("ul", { class: "convs" }, S.convs.map(convItem))
      : el("p", { class: "empty" }, t("no_conversations")));
}

function conversationSection() {
  return el("section", { class: "conversation", "aria-label": t("conversation"),
                         "data-conv": S.doc ? S.doc.id : "" },
    S.doc ? conversationView(S.doc) : el("p", { class: "empty" }, t("pick_conversation")));
}

function presenceBar() {
  if (!S.desk) return null;
  const d = S.desk;
  const set = (state) => async () => {
    const { status, doc } = await api("POST", "/api/desks/" + d.desk + "/presence", { state });
    if (status !== 200) setFlash(doc.error);
  };
  return el("div", { class: "presence", role: "group", "aria-label": t("presence") },
    el("span", { class: "led led-" + d.led, "aria-hidden": "true" }),
    el("span", { id: "presence-state", "data-state": d.presence },
       t("presence_" + d.presence) + " · " + t("load", { load: d.load, cap: d.cap })),
    el("button", { id: "btn-available", onclick: set("available"), "aria-pressed": String(d.presence === "available") }, t("presence_available")),
    el("button", { id: "btn-break", onclick: set("break"), "aria-pressed": String(d.presence === "break") }, t("presence_break")),
    el("button", { id: "btn-offline", onclick: set("offline"), "aria-pressed": String(d.presence === "offline") }, t("presence_offline")));
}

function convItem(c) {
  const who = c.name || c.customer;
  return el("li", {},
    el("button", { class: "conv" + (c.id === S.current ? " current" : ""), "data-conv": c.id,
                   "aria-current": c.id === S.current ? "true" : null,
                   onclick: () => openConversation(c.id) },
      el("span", { class: "who" }, who),
      el("span", { class: "state state-" + c.state }, t("state_" + c.state)),
      c.unread > 0 ? el("span", { class: "unread", "aria-label": t("unread_n", { n: c.unread }) }, String(c.unread)) : null,
      c.state === "offered" && c.offer_deadline ? el("span", { class: "deadline", "data-deadline": c.offer_deadline }) : null,
      c.waiting_since ? el("span", { class: "waiting" }, t("waiting"), " ", el("span", { "data-since": c.waiting_since })) : null,
      c.last ? el("span", { class: "preview" }, c.last.text) : null));
}

async function openConversation(id) {
  S.current = id;
  S.doc = null;
  await loadCurrent();
  render();
}

function conversationView(doc) {
  const profile = doc.customer_profile || {};
  const name = profile.name || doc.customer;
  const actions = [];
  if (doc.state === "offered") actions.push(el("button", { id: "btn-accept", onclick: () => act("accept", {}) }, t("accept")));
  return el("article", { class: "thread-view" },
    el("header", {},
      el("h2", {}, name),
      el("p", { class: "meta" }, doc.customer + " · " + t("queue") + " " + doc.queue + " · ",
        el("span", { class: "state state-" + doc.state, id: "conv-state" }, t("state_" + doc.state)),
        doc.state === "offered" && doc.offer_deadline ? el("span", { class: "deadline", "data-deadline": doc.offer_deadline }) : null),
      actions),
    profileView(profile),
    el("ol", { class: "thread", "aria-label": t("thread") }, pastMessages(profile, doc.id), doc.messages.map(messageView)),
    doc.kind === "callback" && doc.state === "active" ? callbackBox() : null,
    replyBox(doc),
    noteBox(),
    moveBox(doc),
    doc.state === "wrapup" || doc.state === "active" ? wrapupBox(doc) : null);
}

function profileView(p) {
  if (!p || !p.number) return null;
  return el("details", { class: "profile" },
    el("summary", {}, t("profile")),
    el("dl", {},
      el("dt", {}, t("name")), el("dd", {}, p.name || "–"),
      el("dt", {}, t("tags")), el("dd", {}, (p.tags || []).join(", ") || "–"),
      el("dt", {}, "VIP"), el("dd", {}, p.vip ? t("yes") : t("no")),
      el("dt", {}, t("notes")), el("dd", {}, p.notes || "–")));
}

function pastMessages(profile, openId) {
  const past = (profile.conversations || []).filter((c) => c.id !== openId).slice(0, 5).reverse();
  return past.map((c) => el("li", { class: "past" },
    el("p", { class: "past-head" }, t("earlier", { when: new Date(c.created).toLocaleString(), queue: c.queue, outcome: c.outcome || "" })),
    (c.messages || []).map(messageView)));
}

function messageView(m) {
  const kind = m.dir === "in" ? "in" : m.dir === "internal" || m.dir === "note" ? "note" : "out";
  return el("li", { class: "msg msg-" + kind + " dir-" + m.dir },
    el("span", { class: "when" }, clock(m.t)),
    el("span", { class: "dir" }, t("dir_" + m.dir)),
    el("p", { class: "text" }, m.text),
    m.delivery ? el("span", { class: "delivery delivery-" + m.delivery, "data-out": m.out }, t("delivery_" + m.delivery)) : null,
    m.truncated ? el("span", { class: "truncated" }, t("truncated")) : null);
}

function replyBox(doc) {
  if (!["offered", "active", "wrapup"].includes(doc.state)) return null;
  const rules = S.me.sms;
  const box = el("textarea", { id: "reply", rows: "3", "aria-describedby": "reply-count" });
  const counter = el("p", { id: "reply-count", "aria-live": "polite" });
  const send = el("button", { id: "btn-send", type: "submit" }, t("send"));
  const update = () => {
    const c = Sms.count(box.value, rules);
    const over = c.parts > S.me.max_parts;
    counter.textContent = t("sms_count", { left: c.left, parts: c.parts, enc: c.encoding }) +
      (over ? " · " + t("too_long", { max: S.me.max_parts }) : "");
    counter.classList.toggle("error", over);
    send.disabled = over || box.value.trim() === "";
  };
  box.addEventListener("input", update);
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
  const picker = el("select", { id: "templates", "aria-label": t("templates"), onchange: () => {
    const tpl = S.templates.find((x) => x.name === picker.value);
    if (tpl && tpl.text) { box.value = tpl.text; update(); box.focus(); }
    picker.value = "";
  } }, el("option", { value: "" }, t("templates") + "…"),
  S.templates.map((x) => el("option", { value: x.name, disabled: x.text === null, title: x.missing || null }, x.name)));
  const form = el("form", { class: "reply", onsubmit: async (e) => {
    e.preventDefault();
    const text = box.value;
    if (Sms.count(text, rules).parts > S.me.max_parts) return;
    if (await act("reply", { text })) clearField("reply");
  } }, el("label", { for: "reply" }, t("reply")), box, el("div", { class: "row" }, picker, counter, send));
  update();
  return form;
}

// By id, not the element the form was built with: a live redraw may have replaced it
// (keeping what was typed) while the request was on its way.
function clearField(id) {
  const node = document.getElementById(id);
  if (!node) return;
  node.value = "";
  node.dispatchEvent(new Event("input"));
}

function noteBox() {
  const input = el("input", { id: "note", "aria-label": t("note"), placeholder: t("note") });
  return el("form", { class: "note", onsubmit: async (e) => {
    e.preventDefault();
    if (input.value.trim() && await act("note", { text: input.value })) clearField("note");
  } }, input, el("button", { type: "submit" }, t("add_note")));
}

function moveBox(doc) {
  if (!["offered", "active", "wrapup"].includes(doc.state)) return null;
  const target = el("select", { id: "transfer-target", "aria-label": t("transfer_to") },
    (S.me.desks || []).filter((d) => d.desk !== doc.desk).map((d) => el("option", { value: "desk:" + d.desk }, d.name)),
    S.me.queues.map((q) => el("option", { value: "queue:" + q }, t("queue") + " " + q)));
  const why = el("input", { id: "escalate-note", "aria-label": t("escalate_note"), placeholder: t("escalate_note") });
  return el("div", { class: "move" },
    el("form", { onsubmit: async (e) => {
      e.preventDefault();
      const [kind, value] = target.value.split(":");
      await act("transfer", kind === "desk" ? { desk: Number(value) } : { queue: value });
    } }, target, el("button", { id: "btn-transfer", type: "submit" }, t("transfer"))),
    el("form", { onsubmit: async (e) => { e.preventDefault(); await act("escalate", { note: why.value }); } },
      why, el("button", { id: "btn-escalate", type: "submit" }, t("escalate"))));
}

function callbackBox() {
  const out = (outcome) => async () => { await act("callback_outcome", { outcome }); };
  const when = el("select", { id: "retry-in", "aria-label": t("cb_when") },
    [[900, "cb_15m"], [3600, "cb_1h"], [7200, "cb_2h"], [86400, "cb_1d"]].map(([s, key]) =>
      el("option", { value: s }, t(key))));
  return el("div", { class: "callback", role: "group", "aria-label": t("callback") },
    el("span", {}, t("callback")),
    el("button", { onclick: out("reached") }, t("cb_reached")),
    el("button", { onclick: out("no_answer") }, t("cb_no_answer")),
    when,
    el("button", { onclick: async () => {
      await act("callback_outcome", { outcome: "retry", in_s: Number(when.value) });
    } }, t("cb_retry")));
}

function wrapupBox(doc) {
  if (doc.state === "active") {
    return el("div", { class: "wrapup" }, el("button", { id: "btn-wrapup", onclick: () => act("wrapup", {}) }, t("wrapup")));
  }
  const rules = S.wrapup || { dispositions: [], required: {} };
  const required = rules.required[doc.queue] || [];
  const code = el("select", { id: "disposition", required: required.includes("disposition") },
    el("option", { value: "" }, "–"), rules.dispositions.map((d) => el("option", { value: d.code }, d.label)));
  const summary = el("textarea", { id: "summary", rows: "2", required: required.includes("summary") });
  const error = el("p", { class: "error", role: "alert", id: "wrapup-error" });
  return el("form", { class: "wrapup", onsubmit: async (e) => {
    e.preventDefault();
    const body = { outcome: "resolved" };
    if (code.value) body.disposition = code.value;
    if (summary.value.trim()) body.summary = summary.value;
    const r = await act("close", body, error);
    if (r) { S.current = null; S.doc = null; await loadMine(); render(); }
  } },
  el("h3", {}, t("wrapup_form")),
  el("label", { for: "disposition" }, t("disposition") + (required.includes("disposition") ? " *" : "")), code,
  el("label", { for: "summary" }, t("summary") + (required.includes("summary") ? " *" : "")), summary,
  el("button", { id: "btn-close", type: "submit" }, t("close")), error);
}

async function act(kind, body, errorBox) {
  const { status, doc } = await api("POST", "/api/conversations/" + S.current + "/" + kind, body);
  if (status !== 200) {
    if (errorBox) errorBox.textContent = doc.error;
    setFlash(doc.error);
    return false;
  }
  setFlash("");
  return true;
}

// -- the supervisor ----------------------------------------------------------------------
// A refused assignment stays shown (with its "force" button) across live re-renders.
const refusedAssign = {};

function queueView() {
  const rows = S.queue.map((c) => {
    const refused = refusedAssign[c.id];
    const desk = el("select", { "aria-label": t("assign_to") }, (S.me.desks || []).map((d) =>
      el("option", { value: d.desk, selected: refused && refused.desk === d.desk }, d.name)));
    const assign = async (force) => {
      const chosen = Number(desk.value);
      const { status, doc } = await api("POST", "/api/conversations/" + c.id + "/assign", { desk: chosen, force });
      if (status === 200) delete refusedAssign[c.id];
      else refusedAssign[c.id] = { desk: chosen, reason: doc.error, forced: force };
      await loadQueue();
      render();
    };
    const note = el("span", { class: "error" }, refused ? refused.reason + " " : null,
      refused && !refused.forced ? el("button", { class: "force", onclick: () => assign(true) }, t("force")) : null);
    return el("tr", { "data-conv": c.id },
      el("td", {}, c.customer), el("td", {}, c.queue), el("td", {}, String(c.position || "–")),
      el("td", {}, ago(c.waited_ms)), el("td", {}, desk, el("button", { class: "assign", onclick: () => assign(false) }, t("assign")), note));
  });
  return el("section", { class: "queue" }, el("h2", {}, t("tab_queue")),
    rows.length ? el("table", {}, el("thead", {}, el("tr", {}, [t("customer"), t("queue"), t("position"), t("waited"), ""].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, rows))
      : el("p", { class: "empty" }, t("nobody_waiting")));
}

function auditView() {
  return el("section", { class: "audit" }, el("h2", {}, t("tab_audit")),
    el("table", {}, el("thead", {}, el("tr", {}, [t("when"), t("user"), t("action"), t("detail"), ""].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, S.audit.slice().reverse().map((a) => el("tr", {},
        el("td", {}, new Date(a.t).toLocaleString()), el("td", {}, a.user || "–"), el("td", {}, a.action),
        el("td", {}, a.detail), el("td", {}, a.ok ? "✓" : "✗"))))));
}

function boardView() {
  const b = S.board;
  if (!b) return el("section", { id: "board" }, el("p", {}, t("loading")));
  const target = b.target_pm;
  const slCell = (v) => el("td", { class: v !== null && v < target ? "bad" : "good" }, pm(v));
  const queueRows = b.queues.map((q) => el("tr", { "data-queue": q.name },
    el("th", { scope: "row" }, q.name), el("td", { class: "waiting" }, String(q.waiting)),
    el("td", {}, secs(q.longest_waiting_ms)),
    el("td", {}, String(q.day.offered)), el("td", {}, String(q.day.answered)), el("td", {}, String(q.day.abandoned)),
    slCell(q.interval.service_level_pm), slCell(q.day.service_level_pm),
    el("td", {}, secs(q.day.asa_ms)), el("td", {}, secs(q.day.first_response_ms))));
  const deskRows = b.desks.map((d) => el("tr", { "data-desk": d.desk },
    el("th", { scope: "row" }, d.name), el("td", {}, el("span", { class: "led led-" + d.led, "aria-hidden": "true" }), " ", t("presence_" + d.presence) + (d.reason ? " (" + d.reason + ")" : "")),
    el("td", {}, d.load + " / " + d.cap), el("td", {}, ago(d.in_state_ms)),
    el("td", {}, String(d.missed_offers)), el("td", {}, String(d.handled))));
  const all = b.branch.day;
  return el("section", { id: "board", class: "board" },
    el("div", { class: "tiles" },
      tile(t("sl_interval"), pm(b.branch.interval.service_level_pm), b.branch.interval.service_level_pm, target),
      tile(t("sl_day"), pm(all.service_level_pm), all.service_level_pm, target),
      tile(t("target"), pm(target) + " / " + b.service_level_s + "s"),
      tile("ASA", secs(all.asa_ms)), tile("FRT", secs(all.first_response_ms)),
      tile(t("offered"), String(all.offered)), tile(t("abandoned"), String(all.abandoned))),
    b.alerts.length ? el("ul", { class: "alerts", role: "alert" }, b.alerts.map(alertItem)) : null,
    el("h2", {}, t("queues")),
    el("table", { class: "queues" }, el("thead", {}, el("tr", {}, [t("queue"), t("waiting"), t("longest"), t("offered"), t("answered"), t("abandoned"), t("sl_interval"), t("sl_day"), "ASA", "FRT"].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, queueRows)),
    el("h2", {}, t("desks")),
    el("table", { class: "desks" }, el("thead", {}, el("tr", {}, [t("desk"), t("presence"), t("load_col"), t("in_state"), t("missed"), t("handled")].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, deskRows)),
    el("h2", {}, t("today")),
    // The chart changes when an interval ends: its address says which, so it is fetched then.
    el("img", { class: "chart", src: "/api/board/chart.svg?lang=" + S.lang + "&n=" + b.series.length +
      "&day=" + Math.floor((b.now + b.utc_offset_s * 1000) / 86400000), alt: t("chart_alt") }));
}

function tile(label, value, level, target) {
  const cls = level === undefined || level === null ? "" : level < target ? " bad" : " good";
  return el("div", { class: "tile" + cls }, el("span", { class: "label" }, label), el("span", { class: "value" }, value));
}

function alertItem(a) {
  if (a.kind === "service_level") return el("li", {}, t("alert_sl", { queue: a.queue, sl: pm(a.service_level_pm), target: pm(a.target_pm) }));
  return el("li", {}, t("alert_wait", { queue: a.queue, conv: a.conv, wait: ago(a.waited_ms) }));
}

// -- keyboard ------------------------------------------------------------------------------
function toggleHelp(show) {
  const box = document.getElementById("help");
  box.hidden = !show;
  if (show) box.querySelector("button").focus();
}

function shortcut(e) {
  if (e.key === "Escape") { toggleHelp(false); return; }
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (typing || e.ctrlKey || e.metaKey || e.altKey || !S.me) return;
  const go = {
    "?": () => toggleHelp(true),
    "j": () => step(1), "k": () => step(-1),
    "r": () => focus("reply"), "t": () => focus("templates"),
    "a": () => document.getElementById("btn-accept") && document.getElementById("btn-accept").click(),
    "w": () => focus("btn-wrapup") || focus("disposition"),
  }[e.key];
  if (go) { e.preventDefault(); go(); }
}

function focus(id) {
  const node = document.getElementById(id);
  if (node) node.focus();
  return !!node;
}

function step(by) {
  if (!S.convs.length) return;
  const at = S.convs.findIndex((c) => c.id === S.current);
  const next = S.convs[(at + by + S.convs.length) % S.convs.length];
  openConversation(next.id);
}

function helpOverlay() {
  const keys = [["j / k", t("key_next")], ["r", t("key_reply")], ["t", t("key_templates")],
    ["a", t("key_accept")], ["w", t("key_wrapup")], ["Ctrl+Enter", t("key_send")], ["?", t("key_help")], ["Esc", t("key_close")]];
  const box = document.getElementById("help");
  box.replaceChildren(el("h2", { id: "help-title" }, t("shortcuts")),
    el("dl", {}, keys.map(([k, what]) => [el("dt", {}, el("kbd", {}, k)), el("dd", {}, what)])),
    el("button", { onclick: () => toggleHelp(false) }, t("close_help")));
}

document.addEventListener("DOMContentLoaded", () => { helpOverlay(); start(); });
