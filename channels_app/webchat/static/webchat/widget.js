/*!
 * Patient-messaging hub: website chat widget.
 *
 *   <script src="https://HUB/widget.js" data-practice="pk_..." async></script>
 *
 * One file, no framework, no build step. Everything renders inside a shadow
 * root on <hub-chat-widget id="hub-chat-widget"> so the site's CSS cannot
 * reach in and ours cannot leak out. Text is only ever set with textContent.
 * Design notes: widget.src.md beside this file.
 *
 * Sections: 1 strings · 2 start-up · 3 helpers · 4 styles · 5 state and
 * storage · 6 the DOM · 7 messages · 8 the socket · 9 composer and files ·
 * 10 pre-chat form · 11 open, close, keyboard · 12 go.
 */
(function () {
  "use strict";
  if (window.__hubChatWidget) return; // pasted twice: run once
  window.__hubChatWidget = 1;

  /* ------------------------------------------------------------ 1 strings */

  var STRINGS = {
    en: {
      launcher: "Chat with us",
      unread1: "1 new message",
      unreadN: "{n} new messages",
      dialog: "Chat with {name}",
      close: "Close chat",
      emergency: "If this is a medical emergency, call 911.",
      connecting: "Connecting…",
      connected: "Connected",
      lost: "Connection lost, reconnecting…",
      lostHelp: "Messages you send now will go out when the connection is back.",
      offline: "You're offline. We'll reconnect when your internet connection is back.",
      busy: "Too many connections right now. Trying again in {n} seconds.",
      stopped: "Chat isn't available right now. Please call the practice instead.",
      retryNow: "Try now",
      formIntro: "Tell us your name and what this is about, and we'll start the chat.",
      name: "First name",
      req: "(required)",
      opt: "(optional)",
      nameErr: "Please enter your first name.",
      topic: "What is this about?",
      topicPick: "Choose one…",
      topicOther: "Something else",
      topicErr: "Please choose what this is about, or “Something else”.",
      phone: "Mobile number",
      phoneHint: "Only if you'd like us to text you.",
      consent: "Text me at this number (message and data rates may apply; reply STOP to opt out)",
      phoneErr: "Enter your mobile number, or untick the box.",
      start: "Start chat",
      starting: "Starting…",
      intro: "Type your message below. We'll reply here.",
      you: "You",
      sending: "Sending…",
      uploading: "Uploading… {n}%",
      delivered: "Delivered",
      read: "Read",
      failed: "Not sent",
      retry: "Try again",
      bySms: "by text message",
      typing: "{name} is typing…",
      label: "Your message",
      placeholder: "Type your message…",
      caption: "Add a message (optional)",
      send: "Send",
      wait: "Wait {n}s",
      attach: "Attach a photo or PDF",
      removeFile: "Remove {name}",
      left: "{n} characters left",
      over: "{n} characters too many",
      tooLong: "Your message is too long. Please keep it to {n} characters.",
      badType: "That file can't be sent. You can send {types} files.",
      tooBig: "That file is too large. Files can be up to {n} MB.",
      photo: "Photo",
      attachment: "Attachment",
      newMsg: "New message from {name}: {body}",
      newMsgs: "{n} new messages from {name}",
      canSend: "You can send messages again.",
      smsOffer: "No one is available right now. We can continue this conversation by text message instead.",
      smsButton: "Continue by text message at {number}",
      smsDone: "We'll text you at {number}. You can close this window.",
      noSms: "Our team will answer here. You can close this window and come back later on this device: your conversation will be waiting.",
      smsNotLinked: "We can't text that number from this chat, so we'll reply here.",
      dismiss: "Dismiss",
      forget: "Remove this chat from this device",
      forgetAsk: "Remove this conversation from this device? The practice keeps your messages.",
      expired: "We couldn't find your earlier chat on this device. Please start again.",
      newTab: "(opens in a new tab)",
      messages: "Messages",
      conversation: "Conversation",
      oops: "Something went wrong. Please try again."
    }
  };

  var LOCALE = navigator.language || "en";
  var LANG = (function (l) {
    l = l.toLowerCase();
    return STRINGS[l] ? l : STRINGS[l.split("-")[0]] ? l.split("-")[0] : "en";
  })(LOCALE);
  var T = {}, k;
  for (k in STRINGS.en) T[k] = STRINGS.en[k];
  for (k in STRINGS[LANG]) T[k] = STRINGS[LANG][k]; // a partial translation falls back to English

  /* ----------------------------------------------------------- 2 start-up */

  var HOST_ID = "hub-chat-widget";
  var warned = false;
  function warnOnce(why) {
    if (!warned) console.warn("[hub chat] not starting: " + why);
    warned = true;
  }

  var script = document.currentScript || document.querySelector("script[data-practice]");
  var KEY = script && script.getAttribute("data-practice");
  var HUB;
  try { HUB = new URL(script.src, location.href).origin; } catch (e) { HUB = null; }
  if (!KEY || !HUB || document.getElementById(HOST_ID)) {
    warnOnce("no data-practice key on the script tag");
    return;
  }
  var WS_BASE = HUB.replace(/^http/, "ws"); // http -> ws, https -> wss

  fetch(HUB + "/webchat/" + encodeURIComponent(KEY) + "/config", { credentials: "omit", mode: "cors" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject("HTTP " + r.status); })
    .then(function (cfg) {
      if (!cfg || !cfg.allowed) return warnOnce("the practice has not allowed this website");
      if (document.body) boot(cfg);
      else document.addEventListener("DOMContentLoaded", function () { boot(cfg); });
    }, function (e) {
      warnOnce("this website is not allowed to embed the practice's chat, or the hub is unreachable (" + e + ")");
    });

  /* ------------------------------------------------------------ 3 helpers */

  function fmt(s, o) {
    return s.replace(/\{(\w+)\}/g, function (m, name) { return o[name] != null ? o[name] : m; });
  }

  // Elements from a tag, properties and children; strings become text nodes.
  function h(tag, props, kids) {
    var el = document.createElement(tag), p, v;
    for (p in props || {}) {
      v = props[p];
      if (v == null || v === false) continue;
      if (p === "class") el.className = v;
      else if (p === "text") el.textContent = v;
      else if (p.slice(0, 2) === "on") el.addEventListener(p.slice(2), v);
      else el.setAttribute(p, v === true ? "" : v);
    }
    (kids || []).forEach(function (c) {
      if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }

  var ICONS = {
    chat: "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2zM6 9h12v2H6zm8 5H6v-2h8zm4-6H6V6h12z",
    close: "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z",
    clip: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z",
    send: "M2 21l21-9L2 3v7l15 2-15 2z",
    warn: "M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z",
    file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9z"
  };
  function icon(name, size) {
    var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg"),
      path = document.createElementNS(NS, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size || 22);
    svg.setAttribute("height", size || 22);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // Client message ids: 32 hex characters (crypto.randomUUID needs a secure context).
  function uid() {
    var b = new Uint8Array(16), s = "", i;
    crypto.getRandomValues(b);
    for (i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  // The server counts characters (code points), not UTF-16 units.
  function chars(s) { return Array.from(s).length; }

  function clock(d) {
    var t = d.toLocaleTimeString(LOCALE, { hour: "numeric", minute: "2-digit" });
    return d.toDateString() === new Date().toDateString() ? t
      : d.toLocaleDateString(LOCALE, { month: "short", day: "numeric" }) + ", " + t;
  }

  function orList(items) {
    try { return new Intl.ListFormat(LOCALE, { type: "disjunction" }).format(items); }
    catch (e) { return items.join(", "); }
  }

  function store(kind) { // localStorage/sessionStorage, or nothing (privacy modes, blocked storage)
    try { var s = window[kind]; s.getItem("x"); return s; } catch (e) { return null; }
  }

  /* ------------------------------------------------------------- 4 styles */

  var CSS = [
    // The host: nothing of the page's reaches in. Important declarations in
    // the shadow tree beat the page's, even the page's !important ones.
    ":host{all:initial!important;display:block!important;position:fixed!important;right:0!important;bottom:0!important;",
    "width:0!important;height:0!important;overflow:visible!important;z-index:2147483000!important;color-scheme:light!important}",
    "*,*::before,*::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    // .w covers what the patient can see (see fit()); only its children take clicks.
    ".w{position:fixed;left:0;top:0;width:100%;height:100%;pointer-events:none;",
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;font-size:1em;",
    "line-height:1.45;color:#1d2428;text-align:left;-webkit-text-size-adjust:100%}",
    "button,input,select,textarea{font:inherit;color:inherit;letter-spacing:normal;margin:0}",
    "button{cursor:pointer}",
    "p{margin:0}",
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    // Focus: a dark ring outside a white gap, visible on any background.
    ":focus{outline:3px solid #0b3d91;outline-offset:2px;box-shadow:0 0 0 2px #fff}",
    ":focus:not(:focus-visible){outline:none;box-shadow:none}",
    // Launcher
    ".launch,.panel{pointer-events:auto}",
    ".launch{position:absolute;right:20px;bottom:20px;display:flex;align-items:center;min-height:52px;padding:10px 20px 10px 16px;",
    "border:2px solid transparent;border-radius:28px;background:#0b5566;color:#fff;font-weight:600;",
    "box-shadow:0 4px 16px rgba(0,0,0,.28)}",
    ".launch:hover{background:#083f4c}",
    ".launch:focus{box-shadow:0 0 0 2px #fff,0 4px 16px rgba(0,0,0,.28)}",
    ".launch svg{flex:none;margin-right:8px}",
    ".badge{display:inline-flex;align-items:center;justify-content:center;min-width:24px;height:24px;margin-left:10px;",
    "padding:0 6px;border-radius:12px;background:#fff;color:#0b5566;font-size:.875em;font-weight:700}",
    // Panel
    ".panel{position:absolute;right:20px;bottom:88px;width:384px;max-width:calc(100% - 40px);height:calc(100% - 108px);",
    "max-height:680px;display:flex;flex-direction:column;background:#fff;border:1px solid #b8c3c9;border-radius:14px;",
    "box-shadow:0 12px 48px rgba(0,0,0,.3);overflow:hidden}",
    ".head{display:flex;align-items:flex-start;flex:none;padding:12px 8px 12px 16px;background:#0b5566;color:#fff}",
    ".head h2{margin:0;font-size:1.125em;font-weight:700;line-height:1.3;color:#fff}",
    ".avail{margin-top:2px;font-size:.875em;color:#eef6f8}",
    ".dot{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:50%;background:#8fd19e}",
    ".dot.off{background:#c2cbd0}",
    ".x,.ib{flex:none;display:flex;align-items:center;justify-content:center;width:44px;height:44px;padding:0;",
    "border:2px solid transparent;border-radius:10px;background:transparent}",
    ".x{margin-left:auto;color:#fff}",
    ".x:hover{background:rgba(255,255,255,.16)}",
    ".emerg{display:flex;align-items:flex-start;flex:none;padding:10px 16px;background:#fdeceb;color:#8c1d13;",
    "font-weight:700;border-bottom:1px solid #efc0bb}",
    ".emerg svg{flex:none;margin:1px 8px 0 0}",
    ".banner,.notice{display:flex;flex-wrap:wrap;align-items:center;flex:none;padding:6px 8px 6px 16px;",
    "background:#fff3cd;color:#4d3800;font-size:.9375em;border-bottom:1px solid #e3cd80}",
    ".banner p,.notice p{flex:1 1 12em;padding:4px 0}",
    ".notice{border-top:1px solid #e3cd80}",
    ".link{min-height:44px;padding:0 10px;border:2px solid transparent;border-radius:8px;background:transparent;",
    "color:#0b5566;font-weight:600;text-decoration:underline}",
    ".banner .link,.notice .link{color:#4d3800}",
    ".scroll{flex:1 1 auto;overflow-y:auto;overscroll-behavior:contain;padding:16px}",
    // Pre-chat form
    ".f{margin-bottom:16px}",
    ".lbl{display:block;margin-bottom:4px;font-weight:600}",
    ".hint{display:block;margin-bottom:4px;font-size:.875em;font-weight:400;color:#505c63}",
    ".lbl .hint{display:inline;margin:0}",
    ".gap{margin-top:8px}",
    ".fld{display:block;width:100%;min-height:44px;padding:8px 10px;border:2px solid #68747b;border-radius:8px;",
    "background:#fff;color:#1d2428}",
    ".fld[aria-invalid=true]{border-color:#b3261e}",
    ".err{margin-top:4px;color:#b3261e;font-size:.9375em;font-weight:600}",
    ".chk{display:flex;align-items:flex-start;min-height:44px;padding:8px 0;cursor:pointer}",
    ".chk input{flex:none;width:24px;height:24px;margin:0 10px 0 0;accent-color:#0b5566}",
    ".btn{display:inline-flex;align-items:center;justify-content:center;min-width:44px;min-height:44px;padding:8px 18px;",
    "border:2px solid transparent;border-radius:10px;background:#0b5566;color:#fff;font-weight:600}",
    ".btn:hover{background:#083f4c}",
    ".btn[aria-disabled=true]{background:#5b676e;cursor:not-allowed}",
    ".btn svg{flex:none;margin-right:6px}",
    ".intro{margin-bottom:16px;color:#3b474e}",
    // Messages
    ".list{list-style:none;margin:0;padding:0}",
    ".m{display:flex;flex-direction:column;align-items:flex-start;margin:0 0 14px}",
    ".m.in{align-items:flex-end}",
    ".who{margin-bottom:2px;font-size:.875em;font-weight:600;color:#3b474e}",
    ".bub{max-width:88%;padding:8px 12px;border-radius:16px 16px 16px 4px;background:#eaeff2;color:#1d2428;",
    "white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere}",
    ".in .bub{background:#0b5566;color:#fff;border-radius:16px 16px 4px 16px}",
    ".bub a{color:inherit;text-decoration:underline}",
    ".pic{display:block;max-width:100%;max-height:220px;margin:2px 0 6px;border-radius:8px;background:#fff}",
    ".chip{display:flex;align-items:center;margin:2px 0 6px;padding:6px 8px;border-radius:8px;",
    "background:rgba(255,255,255,.9);color:#1d2428;font-size:.9375em}",
    ".chip svg{flex:none;margin-right:6px;color:#0b5566}",
    ".meta{margin-top:2px;font-size:.8125em;color:#505c63}",
    ".fail .meta{color:#b3261e;font-weight:600}",
    ".typing{margin:0 0 10px;color:#505c63;font-style:italic}",
    ".sms{margin-top:8px;padding:12px;border:1px solid #b8c3c9;border-radius:10px;background:#f4f7f8}",
    ".sms p+*{margin-top:8px}",
    ".forget{display:block;margin:20px auto 0;font-size:.875em;font-weight:400}",
    // Composer
    ".comp{flex:none;padding:8px 12px 12px;border-top:1px solid #b8c3c9;background:#fff}",
    ".row{display:flex;align-items:flex-end}",
    ".ta{flex:1 1 auto;min-width:0;min-height:48px;max-height:150px;margin:0 8px;padding:10px;resize:none;",
    "border:2px solid #68747b;border-radius:10px;background:#fff;color:#1d2428;line-height:1.4}",
    ".ta::placeholder{color:#5e6a71;opacity:1}",
    ".ib{color:#0b5566}",
    ".ib:hover{background:#e6eef1}",
    ".ib[aria-disabled=true]{color:#5b676e;cursor:not-allowed}",
    ".comp .btn{padding:8px 14px;white-space:nowrap}",
    ".count{margin-top:4px;font-size:.8125em;color:#505c63;text-align:right}",
    ".count.over{color:#b3261e;font-weight:600}",
    ".staged{display:flex;align-items:center;margin-bottom:8px;padding:4px 4px 4px 10px;border:1px solid #b8c3c9;",
    "border-radius:10px;background:#f4f7f8}",
    ".staged span{flex:1 1 auto;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".staged img{flex:none;width:36px;height:36px;margin-right:8px;object-fit:cover;border-radius:6px}",
    // Phones and short windows: the panel takes the whole screen.
    "@media (max-width:480px),(max-height:540px){.panel{top:0;right:0;bottom:0;left:0;width:auto;max-width:none;",
    "height:auto;max-height:none;border:0;border-radius:0}.open .launch{display:none}}",
    "@media (prefers-reduced-motion:no-preference){.panel{animation:hubin .18s ease-out}",
    "@keyframes hubin{from{opacity:0;transform:translateY(12px)}}}",
    "@media (forced-colors:active){.dot{forced-color-adjust:none}.bub,.chip{border:1px solid CanvasText}}"
  ].join("");

  /* --------------------------------------------------------------- boot */

  function boot(C) {
    if (document.getElementById(HOST_ID)) return;
    var MAX = C.max_message || 2000;
    var PRACTICE = C.practice_name || "";

    /* ------------------------------------------ 5 state and storage */

    var LS = store("localStorage"), SS = store("sessionStorage");
    var LKEY = "hubchat:" + KEY, SKEY = "hubchat:" + KEY + ":tab";
    function load(s, key) { try { return JSON.parse(s.getItem(key)) || {}; } catch (e) { return {}; } }
    var saved = LS ? load(LS, LKEY) : {}; // token, cursor, topic, handoff
    var tab = SS ? load(SS, SKEY) : {}; // open, draft, outbox: this tab only, never kept on the device

    var S = {
      token: saved.token || null,
      cursor: null, // {conversation_id, seq}: the last event this page received (the replay cursor)
      topic: saved.topic || "",
      handoff: saved.handoff || null, // {conv, number} once continued by SMS
      open: false,
      view: saved.token ? "chat" : "form",
      ws: null, gen: 0, ready: false, attempt: 0, status: "idle", shownLost: false,
      retryTimer: 0, lostTimer: 0, readTimer: 0, pingTimer: 0, pongTimer: 0, rateTimer: 0, typingTimer: 0,
      hydrated: false, // received a history in this page
      startMsg: null, startPhone: false,
      agents: !!C.agents_available, expected: C.expected_reply || "", sms: null, conv: null,
      byEvent: {}, byClient: {}, orphans: {}, inflight: [], agentRead: {},
      said: "", rateUntil: 0, typingSentAt: 0, staged: null, smsAsked: false, startTopic: "", noticeErr: false
    };

    function saveLocal() {
      if (!LS) return;
      try {
        if (S.token) {
          LS.setItem(LKEY, JSON.stringify({ token: S.token, cursor: S.cursor || saved.cursor, topic: S.topic,
            handoff: S.handoff }));
        }
        else LS.removeItem(LKEY);
      } catch (e) { /* full or blocked: the chat still works for this page */ }
    }
    function saveTab() {
      if (!SS) return;
      var outbox = [];
      Object.keys(S.byClient).forEach(function (id) {
        var r = S.byClient[id];
        if (r.pending && !r.file) outbox.push({ id: id, body: r.body, topic: r.topic, at: +r.at });
      });
      try { SS.setItem(SKEY, JSON.stringify({ open: S.open, draft: E.ta ? E.ta.value : "", outbox: outbox })); }
      catch (e) { /* ignore */ }
    }

    /* --------------------------------------------------- 6 the DOM */

    var host = document.createElement("hub-chat-widget");
    host.id = HOST_ID;
    host.setAttribute("lang", LANG);
    var root = host.attachShadow({ mode: "open" });
    var E = {};

    function field(id, label, note, input, hint) {
      E[id + "Err"] = h("p", { id: id + "-err", class: "err", hidden: true });
      return h("div", { class: "f" }, [
        h("label", { class: "lbl", for: id }, [label + " ", h("span", { class: "hint", text: note })]),
        hint ? h("span", { class: "hint", id: id + "-hint", text: hint }) : null,
        input, E[id + "Err"]
      ]);
    }

    function build() {
      // A constructed stylesheet needs no 'unsafe-inline' in the page's
      // Content-Security-Policy; a <style> where the browser has none.
      var sheet = null;
      try {
        if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && CSSStyleSheet.prototype.replaceSync) {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(CSS);
          root.adoptedStyleSheets = [sheet];
        }
      } catch (e) { sheet = null; }
      if (!sheet) root.appendChild(h("style", { text: CSS }));
      E.live = h("div", { class: "sr", "aria-live": "polite" }); // announcements, heard even while closed
      E.count = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
      E.countSr = h("span", { class: "sr" });
      E.launch = h("button", {
        type: "button", class: "launch", "aria-expanded": "false", "aria-controls": "panel",
        onclick: function () { S.open ? close() : open(true); }
      }, [icon("chat", 24), T.launcher, E.countSr, E.count]);

      // Header, emergency notice, connection banner
      E.title = h("h2", { id: "title", text: PRACTICE });
      E.dot = h("span", { class: "dot", "aria-hidden": "true" });
      E.avail = h("span");
      E.bannerText = h("p");
      E.retry = h("button", { type: "button", class: "link", text: T.retryNow, onclick: function () { connect(); } });
      E.banner = h("div", { class: "banner", hidden: true }, [E.bannerText, E.retry]);

      // Pre-chat form
      E.name = h("input", { id: "name", class: "fld", type: "text", autocomplete: "given-name", maxlength: "60",
        required: true, "aria-required": "true", "aria-describedby": "name-err" });
      E.topic = h("select", { id: "topic", class: "fld", "aria-required": "true", "aria-describedby": "topic-err" },
        [h("option", { value: "", text: T.topicPick })].concat((C.topics || []).map(function (t) {
          return h("option", { value: t.slug, text: t.name });
        }), [h("option", { value: "-", text: T.topicOther })]));
      E.phone = h("input", { id: "phone", class: "fld", type: "tel", autocomplete: "tel", inputmode: "tel",
        maxlength: "30", "aria-describedby": "phone-hint phone-err" });
      E.consent = h("input", { type: "checkbox", id: "consent" });
      E.start = h("button", { type: "submit", class: "btn", text: T.start });
      E.formErr = h("p", { class: "err", hidden: true });
      E.form = h("form", { class: "pre", novalidate: true, onsubmit: onStart }, [
        h("p", { class: "intro", text: T.formIntro }),
        field("name", T.name, T.req, E.name),
        field("topic", T.topic, T.req, E.topic),
        field("phone", T.phone, T.opt, E.phone, T.phoneHint),
        h("label", { class: "chk", for: "consent" }, [E.consent, T.consent]),
        E.formErr,
        h("div", { class: "gap" }, [E.start])
      ]);

      // Conversation
      E.intro = h("p", { class: "intro", text: T.intro });
      E.list = h("ol", { class: "list", "aria-label": T.messages });
      E.typing = h("p", { class: "typing", hidden: true });
      E.sms = h("div", { class: "sms", hidden: true });
      E.forget = h("button", { type: "button", class: "link forget", text: T.forget, onclick: forgetAsk });
      E.chat = h("div", {}, [E.intro, E.list, E.typing, E.sms, E.forget]);
      E.scroll = h("div", { class: "scroll", role: "region", tabindex: "0", "aria-label": T.conversation }, [E.form, E.chat]);

      // Notices (errors, rate limits) and the composer
      E.noticeText = h("p");
      E.notice = h("div", { class: "notice", hidden: true }, [E.noticeText,
        h("button", { type: "button", class: "link", text: T.dismiss, onclick: function () { notice(null); E.ta.focus(); } })]);
      E.file = h("input", { type: "file", hidden: true, tabindex: "-1", accept: (C.file_types || []).join(","), onchange: onFile });
      E.attach = h("button", { type: "button", class: "ib", "aria-label": T.attach, title: T.attach,
        onclick: function () { if (!this.hasAttribute("aria-disabled")) E.file.click(); } }, [icon("clip")]);
      E.ta = h("textarea", { id: "msg", class: "ta", rows: "1", placeholder: T.placeholder, enterkeyhint: "send",
        "aria-describedby": "count", oninput: onType, onkeydown: onComposeKey });
      E.send = h("button", { type: "submit", class: "btn" }, [icon("send", 18), h("span", { text: T.send })]);
      E.counter = h("p", { id: "count", class: "count", hidden: true });
      E.staged = h("div", { class: "staged", hidden: true });
      E.comp = h("form", { class: "comp", onsubmit: function (e) { e.preventDefault(); submit(); } }, [
        E.staged,
        h("div", { class: "row" }, [E.attach, h("label", { class: "sr", for: "msg", text: T.label }), E.ta, E.send]),
        E.counter, E.file
      ]);

      E.panel = h("div", {
        id: "panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-label": fmt(T.dialog, { name: PRACTICE }),
        "aria-describedby": "emerg", hidden: true, onkeydown: onPanelKey
      }, [
        h("div", { class: "head" }, [
          h("div", {}, [E.title, h("p", { class: "avail" }, [E.dot, E.avail])]),
          h("button", { type: "button", class: "x", "aria-label": T.close, title: T.close, onclick: close }, [icon("close")])
        ]),
        h("p", { id: "emerg", class: "emerg" }, [icon("warn", 20), T.emergency]),
        E.banner, E.scroll, E.notice, E.comp
      ]);
      E.w = h("div", { class: "w" }, [E.launch, E.panel, E.live]);
      root.appendChild(E.w);
      // Keys typed here are ours: the page's shortcuts must not see them.
      ["keydown", "keyup", "keypress"].forEach(function (t) {
        E.w.addEventListener(t, function (e) { e.stopPropagation(); });
      });
      document.body.appendChild(host);
    }

    // Follow the visual viewport. On a phone, a page wider than the screen
    // stretches the layout viewport that position:fixed uses, which would put
    // the launcher off-screen; this also keeps the panel above an on-screen
    // keyboard. Pinch-zoomed in, ordinary fixed positioning is kinder.
    var fitting = 0;
    function fit() {
      fitting = 0;
      var v = window.visualViewport, st = E.w.style;
      if (!v || v.scale > 1.05) { st.left = st.top = "0"; st.width = st.height = "100%"; return; }
      st.left = v.offsetLeft + "px";
      st.top = v.offsetTop + "px";
      st.width = v.width + "px";
      st.height = v.height + "px";
    }
    function refit() { if (!fitting) fitting = requestAnimationFrame(fit); }

    // Polite announcements: each is a new node, so none replaces another.
    function say(text) {
      if (!text) return;
      var p = h("p", { text: text });
      E.live.appendChild(p);
      setTimeout(function () { p.remove(); }, 15000);
    }

    // A notice above the composer; errors go away once a message gets through.
    function notice(text, err) {
      E.notice.hidden = !text;
      E.noticeText.textContent = text || "";
      S.noticeErr = !!err;
      if (text) say(text);
    }

    function renderHeader() {
      E.avail.textContent = S.expected;
      E.dot.className = S.agents ? "dot" : "dot off";
    }

    function renderView() {
      var chat = S.view === "chat";
      E.form.hidden = chat;
      E.chat.hidden = !chat;
      E.comp.hidden = !chat || S.status === "stopped";
      E.intro.hidden = !!E.list.firstChild;
    }

    // SMS offer, its confirmation, or the "we'll answer here" note.
    function renderSms() {
      var box = E.sms, hand = S.handoff && S.handoff.conv === S.conv;
      box.textContent = "";
      box.hidden = true;
      if (hand) {
        box.appendChild(E.smsDone = h("p", { tabindex: "-1", text: fmt(T.smsDone, { number: S.handoff.number }) }));
      } else if (!S.agents && S.conv) {
        if (S.sms) {
          box.appendChild(h("p", { text: T.smsOffer }));
          box.appendChild(h("button", {
            type: "button", class: "btn", "aria-disabled": S.smsAsked ? "true" : null,
            onclick: function () {
              if (S.smsAsked || !S.ready) return;
              S.smsAsked = true;
              send({ type: "continue_by_sms" });
              this.setAttribute("aria-disabled", "true");
            }
          }, [fmt(T.smsButton, { number: S.sms })]));
        } else box.appendChild(h("p", { text: T.noSms }));
      } else return;
      box.hidden = false;
    }

    // Connection state: the banner, and what is announced.
    function setConn(status, n) {
      S.status = status;
      if (n != null) S.busyFor = n;
      if (status === "open" || status === "idle") {
        clearTimeout(S.lostTimer);
        S.lostTimer = 0;
        E.banner.hidden = true;
        if (status === "open" && S.shownLost && S.open) say(T.connected);
        if (status === "open") { S.shownLost = false; S.said = ""; }
      } else if ((status === "lost" || status === "connecting") && E.banner.hidden) {
        // Short blips and quick first connections show nothing; retries do not postpone it.
        if (!S.lostTimer) S.lostTimer = setTimeout(showConn, 1500);
      } else showConn();
      renderView();
    }

    function showConn() {
      clearTimeout(S.lostTimer);
      S.lostTimer = 0;
      var st = S.status;
      if (st === "open" || st === "idle") return;
      var text = st === "connecting" ? T.connecting : st === "busy" ? fmt(T.busy, { n: S.busyFor })
        : st === "stopped" ? T.stopped : (navigator.onLine ? T.lost : T.offline) + " " + T.lostHelp;
      var key = st === "lost" ? st : text; // each state is said once, not at every retry
      E.bannerText.textContent = text;
      E.retry.hidden = st !== "lost";
      if (S.said !== key && S.open) say(st === "lost" ? T.lost : text); // not while browsing the site
      S.said = key;
      E.banner.hidden = false;
      S.shownLost = true;
    }

    /* --------------------------------------------------- 7 messages */

    // A message on screen: {eventId, clientId, conv, seq, dir, body, at, agent,
    // channel, atts, status, pending, file, url, seen, readSent, el...}.

    function linkify(el, text) {
      var re = /\bhttps?:\/\/[^\s<>"]+/g, last = 0, m, url;
      while ((m = re.exec(text))) {
        url = m[0].replace(/[.,;:!?)\]'"]+$/, "");
        el.appendChild(document.createTextNode(text.slice(last, m.index)));
        el.appendChild(h("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
          [url, h("span", { class: "sr", text: " " + T.newTab })]));
        last = m.index + url.length;
        re.lastIndex = last;
      }
      el.appendChild(document.createTextNode(text.slice(last)));
    }

    function statusText(r) {
      if (r.dir !== "in") return r.channel === "sms" ? T.bySms : "";
      if (r.status === "failed") return T.failed + (r.why ? ": " + r.why : "");
      if (r.status === "uploading") return fmt(T.uploading, { n: r.progress || 0 });
      return T[r.status] || "";
    }

    // The whole message; drawMeta redraws only its time and status line.
    function draw(r) {
      var mine = r.dir === "in";
      if (!r.el) {
        r.el = h("li", { class: "m " + (mine ? "in" : "out") });
        r.el._rec = r;
      }
      var el = r.el, bub = h("div", { class: "bub" });
      el.textContent = "";
      el.appendChild(h("p", { class: "who", text: mine ? T.you : r.agent || PRACTICE }));
      (r.atts || []).forEach(function (a) {
        var isImg = /^image\//.test(a.content_type || "");
        if (r.url && isImg && !/heic/.test(a.content_type)) {
          bub.appendChild(h("img", { class: "pic", src: r.url, alt: T.photo + ": " + (a.filename || ""),
            onload: function () { if (r.pending) toBottom(); } }));
        } else {
          bub.appendChild(h("span", { class: "chip" }, [icon("file", 18),
            (isImg ? T.photo + ": " : "") + (a.filename || "file")]));
        }
      });
      if (r.body) { var p = h("p"); linkify(p, r.body); bub.appendChild(p); }
      else if (!bub.firstChild) bub.appendChild(h("span", { class: "chip" }, [icon("file", 18), T.attachment]));
      el.appendChild(bub);
      r.meta = null;
      drawMeta(r);
    }

    function drawMeta(r) {
      var st = statusText(r), meta = h("p", { class: "meta" }, [
        h("time", { datetime: r.at.toISOString(), text: clock(r.at) }), st ? " · " + st : ""]);
      if (r.meta) r.meta.remove();
      if (r.retryBtn) r.retryBtn.remove();
      r.el.appendChild(r.meta = meta);
      r.el.classList.toggle("fail", r.status === "failed");
      r.retryBtn = r.status === "failed" && r.file ? h("button", { type: "button", class: "link", text: T.retry,
        onclick: function () { upload(r); E.ta.focus(); } }) : null;
      if (r.retryBtn) r.el.appendChild(r.retryBtn);
    }

    function when(s) { var d = new Date(s); return isNaN(d) ? new Date() : d; }

    // In order of (conversation, seq); messages still on their way stay last.
    function place(r) {
      var node = E.list.lastElementChild, o;
      if (r.seq != null) {
        while (node) {
          o = node._rec;
          if (o !== r && o.seq != null && (o.conv < r.conv || (o.conv === r.conv && o.seq < r.seq))) break;
          node = node.previousElementSibling;
        }
        E.list.insertBefore(r.el, node ? node.nextSibling : E.list.firstChild);
      } else if (r.el.parentNode !== E.list) E.list.appendChild(r.el);
      E.intro.hidden = true;
    }

    function atBottom() { var s = E.scroll; return s.scrollHeight - s.scrollTop - s.clientHeight < 80; }
    function toBottom() { E.scroll.scrollTop = E.scroll.scrollHeight; }

    function advance(conv, seq) {
      var c = S.cursor;
      if (!c || conv > c.conversation_id || (conv === c.conversation_id && seq > c.seq)) {
        S.cursor = { conversation_id: conv, seq: seq };
        saveLocal();
      }
      if (!S.conv || conv > S.conv) { S.conv = conv; renderSms(); }
    }

    function norm(s) { return (s || "").trim(); }
    // An event that may be one of our own messages whose ack (or upload
    // response) has not come back yet. An upload's live event can arrive
    // before its attachment is listed, so a file matches on its caption alone.
    function mineUnacked(e) {
      if (e.direction !== "in") return false;
      var n = (e.attachments || []).length;
      return Object.keys(S.byClient).some(function (id) {
        var r = S.byClient[id];
        return r.pending && (r.file || n === 0) && norm(r.body) === norm(e.body);
      });
    }
    // Held events that no unacknowledged message can claim any more are shown.
    function releaseOrphans() {
      Object.keys(S.orphans).forEach(function (id) {
        var e = S.orphans[id];
        if (!mineUnacked(e)) { delete S.orphans[id]; addEvent(e); }
      });
    }

    function onEvent(e) {
      if (!e || e.id == null) return;
      advance(e.conversation_id, e.seq);
      var r = S.byEvent[e.id];
      if (r) { // seen already (by ack, or replayed): its time is the server's
        r.at = when(e.created_at);
        if (!r.file && (e.attachments || []).length > (r.atts || []).length) { r.atts = e.attachments; draw(r); }
        else drawMeta(r);
        return;
      }
      if (S.orphans[e.id]) return;
      if (mineUnacked(e)) { S.orphans[e.id] = e; return; }
      addEvent(e);
    }

    function addEvent(e) {
      var stick = atBottom(), out = e.direction === "out";
      var r = {
        eventId: e.id, conv: e.conversation_id, seq: e.seq, dir: e.direction, body: e.body || "",
        at: when(e.created_at), agent: e.agent_name, channel: e.channel, atts: e.attachments || [],
        status: out ? e.status : (S.agentRead[e.conversation_id] || 0) >= e.seq ? "read" : "delivered"
      };
      r.seen = r.readSent = out && e.status === "read";
      S.byEvent[e.id] = r;
      draw(r);
      place(r);
      if (out) {
        typing(null);
        if (!r.seen) announce(r);
        markRead();
      }
      if (stick) toBottom();
    }

    // New messages from the practice, announced in a short batch (a replay
    // after reconnecting must not read out a dozen messages).
    var batch = [], batchTimer = 0;
    function announce(r) {
      batch.push(r);
      clearTimeout(batchTimer);
      batchTimer = setTimeout(function () {
        var b = batch;
        batch = [];
        if (b.length > 2) return say(fmt(T.newMsgs, { n: b.length, name: PRACTICE }));
        b.forEach(function (r) {
          var body = r.body || (r.atts.length ? T.photo : "");
          say(fmt(T.newMsg, { name: r.agent || PRACTICE, body: body.length > 300 ? body.slice(0, 300) + "…" : body }));
        });
      }, 400);
    }

    // The practice's messages count as read once shown: panel open, tab
    // visible. The badge updates at once; one "read" goes out per burst.
    function markRead() {
      var n = 0;
      Object.keys(S.byEvent).forEach(function (id) {
        var r = S.byEvent[id];
        if (r.dir !== "out") return;
        if (S.open && !document.hidden) r.seen = true;
        if (!r.seen) n++;
      });
      E.count.hidden = !n;
      E.count.textContent = n || "";
      E.countSr.textContent = n ? ", " + (n === 1 ? T.unread1 : fmt(T.unreadN, { n: n })) : "";
      clearTimeout(S.readTimer);
      S.readTimer = setTimeout(sendRead, 300);
    }

    function sendRead() {
      var top = {};
      Object.keys(S.byEvent).forEach(function (id) {
        var r = S.byEvent[id];
        if (r.dir === "out" && r.seen && !r.readSent && S.ready && (!top[r.conv] || r.seq > top[r.conv].seq)) top[r.conv] = r;
      });
      Object.keys(top).forEach(function (conv) {
        send({ type: "read", conversation_id: +conv, seq: top[conv].seq });
        Object.keys(S.byEvent).forEach(function (id) {
          var r = S.byEvent[id];
          if (r.dir === "out" && r.conv === +conv && r.seq <= top[conv].seq) r.readSent = true;
        });
      });
    }

    function typing(name) {
      clearTimeout(S.typingTimer);
      var was = !E.typing.hidden;
      E.typing.hidden = !name;
      if (!name) return;
      var stick = atBottom();
      E.typing.textContent = fmt(T.typing, { name: name });
      if (!was && S.open) say(E.typing.textContent);
      if (stick) toBottom();
      S.typingTimer = setTimeout(function () { typing(null); }, 6000);
    }

    // Our own message, shown at once as "Sending…".
    function addMine(body, file, id, at, topic) {
      var r = {
        clientId: id || uid(), dir: "in", body: body, at: at ? new Date(at) : new Date(), pending: true,
        topic: topic == null ? S.topic : topic,
        status: file ? "uploading" : "sending", file: file
      };
      if (file) {
        r.atts = [{ content_type: file.type, filename: file.name }];
        if (/^image\//.test(file.type) && window.URL && URL.createObjectURL) r.url = URL.createObjectURL(file);
      }
      S.byClient[r.clientId] = r;
      draw(r);
      place(r);
      toBottom();
      return r;
    }

    // The server stored it: {event_id, conversation_id, seq}.
    function settle(r, a) {
      r.pending = false;
      r.eventId = a.event_id;
      r.conv = a.conversation_id;
      r.seq = a.seq;
      r.status = (S.agentRead[r.conv] || 0) >= r.seq ? "read" : "delivered";
      var o = S.orphans[a.event_id];
      if (o) { r.at = when(o.created_at); delete S.orphans[a.event_id]; }
      S.byEvent[a.event_id] = r;
      drop(r);
      drawMeta(r);
      place(r);
      if (!S.conv || r.conv > S.conv) { S.conv = r.conv; renderSms(); }
      releaseOrphans();
      saveTab();
    }

    function drop(r) {
      delete S.byClient[r.clientId];
      var i = S.inflight.indexOf(r);
      if (i >= 0) S.inflight.splice(i, 1);
    }

    // Refused: take it off the screen and give the text back to the patient.
    function giveBack(r) {
      drop(r);
      if (r.el) r.el.remove();
      if (r.url) URL.revokeObjectURL(r.url);
      if (r.body) {
        E.ta.value = E.ta.value ? E.ta.value + "\n" + r.body : r.body;
        onType();
      }
      E.intro.hidden = !!E.list.firstChild;
      releaseOrphans();
      saveTab();
    }

    function onFrame(msg) {
      var m;
      try { m = JSON.parse(msg.data); } catch (e) { return; }
      switch (m.type) {
        case "welcome": return onWelcome(m);
        case "event": return onEvent(m.event);
        case "ack":
          var r = S.byClient[m.id];
          if (r && !r.file) settle(r, m);
          if (S.noticeErr && S.rateUntil < Date.now()) notice(null);
          return;
        case "read":
          S.agentRead[m.conversation_id] = Math.max(S.agentRead[m.conversation_id] || 0, m.seq);
          Object.keys(S.byEvent).forEach(function (id) {
            var r = S.byEvent[id];
            if (r.dir === "in" && r.conv === m.conversation_id && r.seq <= m.seq && r.status === "delivered") {
              r.status = "read";
              drawMeta(r);
            }
          });
          return;
        case "typing": return typing(m.name || PRACTICE);
        case "availability": return onAvailability(m);
        case "sms_handoff":
          S.handoff = { conv: S.conv, number: m.masked_number || S.sms };
          saveLocal();
          renderSms();
          say(E.smsDone.textContent);
          if (S.open) E.smsDone.focus();
          return;
        case "error": return onError(m);
        case "pong": clearTimeout(S.pongTimer); S.pongTimer = 0; return;
      }
    }

    function onError(m) {
      var detail = m.detail || T.oops;
      if (S.startMsg && !S.ready) { // the pre-chat form was refused
        S.startMsg = null;
        formBusy(false);
        var which = m.code === "bad_name" ? "name" : m.code === "bad_phone" ? "phone" : null;
        if (which) fieldErr(which, detail); else { E.formErr.textContent = detail; E.formErr.hidden = false; say(detail); }
        (which ? E[which] : E.name).focus();
        return;
      }
      if (m.code === "no_sms" || m.code === "no_conversation") { S.smsAsked = false; renderSms(); }
      // Errors for a message carry its id, except rate limits: the server
      // answers messages in order, so that is the oldest still in flight.
      var r = m.id ? S.byClient[m.id] : m.code === "rate_limited" ? S.inflight[0] : null;
      if (m.code === "rate_limited") limit(m.retry_after || 10);
      if (r && !r.file) giveBack(r);
      notice(detail, true);
    }

    /* ---------------------------------------------------- 8 the socket */

    function send(obj) {
      if (S.ws && S.ws.readyState === 1) { S.ws.send(JSON.stringify(obj)); return true; }
      return false;
    }

    function connect() {
      clearTimeout(S.retryTimer);
      S.retryTimer = 0;
      if (S.ws || S.status === "stopped") return;
      var gen = ++S.gen, ws;
      if (S.status !== "lost" && S.status !== "busy") setConn("connecting"); // "reconnecting" stays up
      try { ws = new WebSocket(WS_BASE + C.socket); } catch (e) { return closed(1006, ""); }
      S.ws = ws;
      ws.onopen = function () { if (gen === S.gen) opened(); };
      ws.onmessage = function (e) { if (gen === S.gen) onFrame(e); };
      ws.onclose = function (e) { if (gen === S.gen) closed(e.code, e.reason); };
    }

    function opened() {
      clearInterval(S.pingTimer);
      S.pingTimer = setInterval(ping, 20000);
      if (S.token) {
        // A new page asks for the whole conversation; a reconnect only for what it missed.
        var c = S.hydrated ? S.cursor : saved.cursor;
        send({ type: "resume", token: S.token,
          cursor: c ? { conversation_id: c.conversation_id, seq: S.hydrated ? c.seq : 0 } : null });
      } else {
        if (S.startMsg) send(S.startMsg);
        S.attempt = 0;
        setConn("open");
      }
    }

    function ping() {
      if (S.pongTimer || !send({ type: "ping" })) return;
      // No pong in 10 s: the socket is dead even if the browser has not noticed.
      S.pongTimer = setTimeout(function () { S.pongTimer = 0; dropSocket(); closed(1006, "no pong"); }, 10000);
    }

    function dropSocket() {
      var ws = S.ws;
      S.gen++;
      S.ws = null;
      if (ws) { ws.onopen = ws.onmessage = ws.onclose = null; try { ws.close(); } catch (e) { /* closing anyway */ } }
    }

    function closed(code, reason) {
      dropSocket();
      clearInterval(S.pingTimer);
      clearTimeout(S.pongTimer);
      S.pongTimer = 0;
      S.ready = false;
      S.inflight.forEach(function (r) { r.sent = false; }); // resent with the same ids after resuming
      S.inflight = [];
      if (code === 4401) { // the visitor token is no longer valid
        forget(T.expired);
        if (S.open) connect();
        return;
      }
      if (code === 4403 || code === 4404) {
        warnOnce(code === 4403 ? "origin not allowed by the practice" : "unknown practice key");
        S.startMsg = null;
        setConn("stopped");
        formBusy(false);
        return;
      }
      if (code === 4429) {
        var secs = +((/(\d+)\s*s/.exec(reason || "") || [])[1]) || 30;
        setConn("busy", secs);
        S.retryTimer = setTimeout(connect, (secs + Math.random() * 5) * 1000);
        return;
      }
      if (!S.token && !S.startMsg && !S.open) return setConn("idle"); // nothing to keep open for
      setConn("lost");
      // 1, 2, 4 ... 30 s, each ±25 %.
      var wait = Math.min(30, Math.pow(2, S.attempt++)) * (0.75 + Math.random() * 0.5);
      S.retryTimer = setTimeout(connect, Math.min(30, wait) * 1000);
    }

    function onWelcome(m) {
      var started = !!S.startMsg;
      S.token = m.token;
      S.ready = true;
      S.attempt = 0;
      S.agents = !!m.agents_available;
      if (m.expected_reply) S.expected = m.expected_reply;
      S.sms = m.sms_number || null;
      if (m.conversation_id && (!S.conv || m.conversation_id > S.conv)) S.conv = m.conversation_id;
      if (started) {
        S.topic = S.startTopic;
        if (S.startPhone && !m.sms_linked) notice(T.smsNotLinked);
        S.startMsg = null;
        S.view = "chat";
        formBusy(false);
      }
      S.hydrated = true; // from now on a reconnect asks only for what it missed
      saveLocal();
      renderHeader();
      setConn("open");
      renderView();
      renderSms();
      flush();
      markRead();
      if (started && S.open) E.ta.focus();
    }

    // Someone came online (or the last one left): say so, and offer texts when nobody is there.
    function onAvailability(m) {
      S.agents = !!m.agents_available;
      if (m.expected_reply) S.expected = m.expected_reply;
      renderHeader();
      renderSms();
    }

    // Send everything waiting, oldest first, with the ids it was given.
    function flush() {
      if (!S.ready || S.rateUntil > Date.now()) return;
      Object.keys(S.byClient).map(function (id) { return S.byClient[id]; })
        .filter(function (r) { return r.pending && !r.file && !r.sent; })
        .sort(function (a, b) { return a.at - b.at; })
        .forEach(function (r) {
          if (send({ type: "message", id: r.clientId, body: r.body, topic: r.topic || "" })) {
            r.sent = true;
            S.inflight.push(r);
          }
        });
    }

    /* ------------------------------------------- 9 composer and files */

    function onType() {
      var n = chars(E.ta.value), left = MAX - n;
      E.ta.style.height = "auto";
      E.ta.style.height = Math.min(E.ta.scrollHeight + 4, 150) + "px";
      E.counter.hidden = left > Math.min(200, MAX / 5);
      E.counter.textContent = E.counter.hidden ? "" : left >= 0 ? fmt(T.left, { n: left }) : fmt(T.over, { n: -left });
      E.counter.classList.toggle("over", left < 0);
      if (left < 0 && !S.wasOver) say(E.counter.textContent);
      S.wasOver = left < 0;
      if (n && S.ready && Date.now() - S.typingSentAt > 3000) {
        S.typingSentAt = Date.now();
        send({ type: "typing" });
      }
      saveTab();
    }

    function onComposeKey(e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    }

    function submit() {
      if (S.rateUntil > Date.now()) return;
      var text = E.ta.value.trim(), file = S.staged;
      if (!text && !file) return;
      if (chars(text) > MAX) return notice(fmt(T.tooLong, { n: MAX }), true);
      E.ta.value = "";
      onType();
      if (file) { stage(null); upload(addMine(text, file)); } else { addMine(text); flush(); }
      saveTab();
    }

    // Rate limited: no sending for `secs`, counting down on the Send button.
    function limit(secs) {
      S.rateUntil = Date.now() + secs * 1000;
      clearInterval(S.rateTimer);
      var tick = function () {
        var left = Math.ceil((S.rateUntil - Date.now()) / 1000);
        var label = E.send.lastChild;
        if (left > 0) {
          label.textContent = fmt(T.wait, { n: left });
          E.send.setAttribute("aria-disabled", "true");
          E.attach.setAttribute("aria-disabled", "true");
          return;
        }
        clearInterval(S.rateTimer);
        label.textContent = T.send;
        E.send.removeAttribute("aria-disabled");
        E.attach.removeAttribute("aria-disabled");
        notice(null);
        say(T.canSend);
        flush();
      };
      tick();
      S.rateTimer = setInterval(tick, 1000);
    }

    function fileOk(f) {
      var types = C.file_types || [], type = f.type || (/\.heic$/i.test(f.name) ? "image/heic" : "");
      if (types.indexOf(type) < 0) {
        return fmt(T.badType, { types: orList(types.map(function (t) {
          return t.split("/")[1].replace("jpeg", "JPEG").replace("webp", "WebP").replace(/^(png|gif|heic|pdf)$/, function (x) {
            return x.toUpperCase();
          });
        })) });
      }
      if (f.size > C.max_file_bytes) return fmt(T.tooBig, { n: Math.floor(C.max_file_bytes / 1048576) });
      return "";
    }

    function onFile() {
      var f = E.file.files[0];
      E.file.value = "";
      if (!f) return;
      var why = fileOk(f);
      if (why) { notice(why, true); E.attach.focus(); return; }
      notice(null);
      stage(f);
      E.ta.focus();
    }

    // A chosen file waits above the text box until Send (the text is its caption).
    function stage(f) {
      if (S.stagedUrl) URL.revokeObjectURL(S.stagedUrl);
      S.staged = f;
      S.stagedUrl = null;
      E.staged.textContent = "";
      E.staged.hidden = !f;
      E.ta.placeholder = f ? T.caption : T.placeholder;
      if (!f) return;
      if (/^image\/(jpeg|png|gif|webp)$/.test(f.type)) {
        S.stagedUrl = URL.createObjectURL(f);
        E.staged.appendChild(h("img", { src: S.stagedUrl, alt: "" }));
      } else E.staged.appendChild(icon("file", 24));
      E.staged.appendChild(h("span", { text: f.name }));
      E.staged.appendChild(h("button", { type: "button", class: "ib", "aria-label": fmt(T.removeFile, { name: f.name }),
        onclick: function () { stage(null); E.attach.focus(); } }, [icon("close", 20)]));
    }

    function upload(r) {
      var x = new XMLHttpRequest(), fd = new FormData();
      r.status = "uploading";
      r.progress = 0;
      drawMeta(r);
      fd.append("file", r.file, r.file.name);
      fd.append("id", r.clientId);
      if (r.body) fd.append("caption", r.body);
      x.open("POST", HUB + C.uploads);
      x.setRequestHeader("Authorization", "Bearer " + S.token);
      x.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        r.progress = Math.round(e.loaded / e.total * 100);
        drawMeta(r);
      };
      x.onload = function () {
        var body = {};
        try { body = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
        if (x.status === 201) return settle(r, body);
        if (x.status === 429) limit(body.retry_after || 30);
        if (x.status >= 400 && x.status < 500 && x.status !== 429) {
          giveBack(r); // a file the server will never take: say why
          notice(body.detail || T.oops, true);
          return;
        }
        failed(r, body.detail);
      };
      x.onerror = function () { failed(r, ""); };
      x.send(fd);
    }

    function failed(r, why) {
      r.status = "failed";
      r.why = why;
      drawMeta(r);
      if (why) notice(why, true);
      else say(T.failed);
      releaseOrphans();
    }

    /* ------------------------------------------------ 10 pre-chat form */

    function fieldErr(id, text) {
      var input = E[id], err = E[id + "Err"];
      err.textContent = text || "";
      err.hidden = !text;
      if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }

    function formBusy(busy) {
      E.start.textContent = busy ? T.starting : T.start;
      if (busy) E.start.setAttribute("aria-disabled", "true"); else E.start.removeAttribute("aria-disabled");
    }

    function onStart(e) {
      e.preventDefault();
      if (S.startMsg) return;
      var name = E.name.value.trim(), topic = E.topic.value, phone = E.phone.value.trim(), sms = E.consent.checked;
      var bad = [];
      fieldErr("name", name ? "" : T.nameErr);
      fieldErr("topic", topic ? "" : T.topicErr);
      fieldErr("phone", sms && !phone ? T.phoneErr : "");
      E.formErr.hidden = true;
      if (!name) bad.push("name");
      if (!topic) bad.push("topic");
      if (sms && !phone) bad.push("phone");
      if (bad.length) {
        say(E[bad[0] + "Err"].textContent);
        E[bad[0]].focus();
        return;
      }
      if (S.status === "stopped") return;
      S.startMsg = { type: "start", name: name, sms_consent: sms };
      if (sms) S.startMsg.phone = phone; // the number goes only with consent to texts
      S.startTopic = topic === "-" ? "" : topic; // rides on each message, not on "start"
      S.startPhone = sms;
      formBusy(true);
      if (!send(S.startMsg)) connect(); // sent on open if the socket is still connecting
    }

    /* ------------------------------------- 11 open, close, keyboard */

    function small() { return matchMedia("(max-width:480px),(max-height:540px)").matches; }

    function open(focus) {
      S.open = true;
      E.panel.hidden = false;
      E.w.classList.add("open");
      E.launch.setAttribute("aria-expanded", "true");
      E.panel.setAttribute("aria-modal", small() ? "true" : "false");
      if (!S.ws && S.status !== "stopped") connect();
      renderView();
      toBottom();
      markRead();
      saveTab();
      if (focus) {
        (S.status === "stopped" ? E.panel.querySelector(".x") : S.view === "form" ? E.name : E.ta).focus();
      }
    }

    function close() {
      S.open = false;
      E.panel.hidden = true;
      E.w.classList.remove("open");
      E.launch.setAttribute("aria-expanded", "false");
      saveTab();
      E.launch.focus();
    }

    function onPanelKey(e) {
      if (e.key === "Escape") { e.preventDefault(); close(); return; }
      // Full screen on a phone the panel is modal: Tab stays inside it.
      if (e.key !== "Tab" || !small()) return;
      var all = Array.prototype.filter.call(
        E.panel.querySelectorAll("button,[href],input,select,textarea,[tabindex]:not([tabindex='-1'])"),
        function (el) { return !el.disabled && el.getClientRects().length; });
      var first = all[0], last = all[all.length - 1], active = root.activeElement;
      if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
    }

    // Forget the visitor on this device: token, cursor, messages on screen.
    function forget(why) {
      var texts = [];
      Object.keys(S.byClient).forEach(function (id) { if (!S.byClient[id].file) texts.push(S.byClient[id].body); });
      Object.keys(S.byEvent).concat(Object.keys(S.byClient)).forEach(function (id) {
        var r = S.byEvent[id] || S.byClient[id];
        if (r && r.url) URL.revokeObjectURL(r.url);
      });
      S.token = S.cursor = S.handoff = S.conv = S.sms = null;
      saved = {};
      S.topic = "";
      S.byEvent = {}; S.byClient = {}; S.orphans = {}; S.inflight = []; S.agentRead = {};
      S.ready = S.hydrated = false;
      S.view = "form";
      E.list.textContent = "";
      if (texts.length) E.ta.value = texts.concat(E.ta.value ? [E.ta.value] : []).join("\n");
      typing(null);
      saveLocal();
      saveTab();
      renderView();
      renderSms();
      markRead();
      notice(why);
    }

    function forgetAsk() {
      if (!window.confirm(T.forgetAsk)) return;
      dropSocket();
      clearTimeout(S.retryTimer);
      S.status = "idle";
      forget(null);
      E.ta.value = "";
      E.name.value = E.phone.value = "";
      E.consent.checked = false;
      E.topic.value = "";
      saveTab();
      connect();
      E.name.focus();
    }

    /* ----------------------------------------------------------- 12 go */

    build();
    fit();
    if (window.visualViewport) {
      visualViewport.addEventListener("resize", refit);
      visualViewport.addEventListener("scroll", refit);
    }
    renderHeader();
    renderView();
    // Messages this tab had not sent yet when the page changed.
    if (S.token) {
      (tab.outbox || []).forEach(function (o) { addMine(o.body, null, o.id, o.at, o.topic); });
      if (tab.draft) { E.ta.value = tab.draft; onType(); }
      connect(); // a returning visitor hears replies while browsing the site
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) return;
      markRead();
      if (!S.ws && S.retryTimer) connect(); // back to the tab: no need to wait out the backoff
      else ping();
    });
    window.addEventListener("online", function () { if (!S.ws && S.retryTimer) connect(); });
    window.addEventListener("offline", function () { if (S.status === "lost" && !E.banner.hidden) showConn(); else ping(); });
    var mq = matchMedia("(max-width:480px),(max-height:540px)"), modal = function () {
      E.panel.setAttribute("aria-modal", mq.matches ? "true" : "false");
    };
    if (mq.addEventListener) mq.addEventListener("change", modal); else if (mq.addListener) mq.addListener(modal);
    // "Remove this chat from this device" in another tab.
    window.addEventListener("storage", function (e) {
      if (e.key === LKEY && !e.newValue && S.token) { dropSocket(); clearTimeout(S.retryTimer); S.status = "idle"; forget(null); }
    });

    if (tab.open && !small()) open(false); // stays open while the patient moves around the site
  }
})();
