/*
 * Widget de chat de la Cuenta de Prepago.
 *
 * Our own small widget on socket.io-client@4: rasa-webchat 1.0.1 cannot pass a
 * token, and Rasa's newer widget is not on npm. It sends the customer's signed
 * token and a client session key when connecting; the server decides which
 * conversation that is and replays its history, so a reload keeps the chat and
 * a shared computer never shows the previous customer's messages.
 *
 * Each message carries a random id and stays "unanswered" until the server
 * says it is done. After a reconnect (the server, or its replica, went away)
 * the history shows which of them the server already answered; the others
 * are sent again with the same id, and the server never answers one twice.
 *
 * Every text is put in the page with textContent/createTextNode, never as HTML;
 * a support agent's reply is shown as plain text under their name.
 */
(function () {
  "use strict";

  var TEXT = {
    title: "Soporte · Cuenta de Prepago",
    open: "Abrir el chat de soporte",
    close: "Cerrar el chat",
    placeholder: "Escribe tu pregunta…",
    inputLabel: "Tu mensaje",
    send: "Enviar",
    greeting: "¡Hola! Soy el asistente de tu Cuenta de Prepago. Pregúntame por tu saldo, tus movimientos, cómo agregar fondos o la recarga automática.",
    typing: "El asistente está escribiendo…",
    offline: "Sin conexión con el asistente. Reintentando…",
    online: "Conexión restablecida.",
    slow: "El asistente está tardando más de lo normal. Intenta de nuevo en un momento.",
    signedIn: function (account) { return "Sesión iniciada · cuenta " + account; },
    anonymous: "Sin sesión · solo dudas generales",
    expired: "Tu sesión expiró: inicia sesión de nuevo para ver datos de tu cuenta.",
    expiredReply: "Tu sesión expiró, así que por seguridad ya no puedo mostrarte datos de tu cuenta. Inicia sesión de nuevo y vuelve a escribirme.",
    invalid: "No pudimos verificar tu sesión: inicia sesión de nuevo.",
    agent: function (name) { return name + " · Soporte"; }
  };
  var SESSION_STORAGE = "prepago-chat-session";
  var REPLY_TIMEOUT_MS = 30000;

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sessionKey() {
    var key = window.localStorage.getItem(SESSION_STORAGE);
    if (!key || !/^[A-Za-z0-9_-]{8,128}$/.test(key)) {
      key = randomKey();
      window.localStorage.setItem(SESSION_STORAGE, key);
    }
    return key;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
    svg.appendChild(path);
    return svg;
  }

  /* Minimal Markdown for the assistant's bubbles: **bold**, [text](https://…), line breaks. */
  function renderMarkdown(text, parent) {
    String(text).split("\n").forEach(function (line, i) {
      if (i > 0) parent.appendChild(document.createElement("br"));
      var pattern = /\*\*(.+?)\*\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;
      var last = 0, match;
      while ((match = pattern.exec(line))) {
        if (match.index > last) parent.appendChild(document.createTextNode(line.slice(last, match.index)));
        if (match[1] !== undefined) {
          parent.appendChild(el("strong", {}, match[1]));
        } else {
          parent.appendChild(el("a", { href: match[3], target: "_blank", rel: "noopener noreferrer" }, match[2]));
        }
        last = pattern.lastIndex;
      }
      if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  function Chat(options) {
    this.socketUrl = options.socketUrl;
    this.socketPath = options.socketPath || "/socket.io";
    this.token = options.token || null;
    // Optional: returns a fresh token (or a Promise of one) when the current one expires.
    this.getToken = typeof options.getToken === "function" ? options.getToken : null;
    this.socket = null;
    this.wasOffline = false;
    this.replyTimer = null;
    this.unanswered = [];  // {id, message, title} sent and not yet answered
    this.build(options.container || document.body);
    this.connect();
  }

  Chat.prototype.build = function (container) {
    var root = el("div", { class: "pc-root" });
    this.bubble = el("button", { class: "pc-bubble", type: "button", "aria-label": TEXT.open,
                                 "aria-expanded": "false", "aria-controls": "pc-panel" });
    this.bubble.appendChild(chatIcon());
    this.panel = el("section", { class: "pc-panel", id: "pc-panel", role: "dialog", "aria-label": TEXT.title, hidden: "" });
    var header = el("header", { class: "pc-header" });
    header.appendChild(el("h2", {}, TEXT.title));
    this.closeButton = el("button", { class: "pc-close", type: "button", "aria-label": TEXT.close }, "×");
    header.appendChild(this.closeButton);
    this.status = el("p", { class: "pc-status", role: "status" });
    this.log = el("div", { class: "pc-log", role: "log", "aria-live": "polite", tabindex: "0" });
    this.typing = el("p", { class: "pc-typing", hidden: "" }, TEXT.typing);
    this.form = el("form", { class: "pc-form" });
    var label = el("label", { class: "pc-visually-hidden", for: "pc-input" }, TEXT.inputLabel);
    this.input = el("input", { id: "pc-input", type: "text", autocomplete: "off", maxlength: "2000",
                               placeholder: TEXT.placeholder });
    this.sendButton = el("button", { type: "submit", class: "pc-send" }, TEXT.send);
    this.form.appendChild(label);
    this.form.appendChild(this.input);
    this.form.appendChild(this.sendButton);
    [header, this.status, this.log, this.typing, this.form].forEach(function (n) { this.panel.appendChild(n); }, this);
    root.appendChild(this.panel);
    root.appendChild(this.bubble);
    container.appendChild(root);

    var self = this;
    this.bubble.addEventListener("click", function () { self.toggle(); });
    this.closeButton.addEventListener("click", function () { self.toggle(false); });
    this.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") self.toggle(false); });
    this.form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = self.input.value.trim();
      if (text) { self.send(text); self.input.value = ""; }
    });
  };

  Chat.prototype.toggle = function (open) {
    var show = open === undefined ? this.panel.hasAttribute("hidden") : open;
    if (show) {
      this.panel.removeAttribute("hidden");
      this.bubble.setAttribute("aria-expanded", "true");
      this.input.focus();
    } else {
      this.panel.setAttribute("hidden", "");
      this.bubble.setAttribute("aria-expanded", "false");
      this.bubble.focus();
    }
  };

  Chat.prototype.connect = function () {
    var self = this;
    if (this.socket) this.socket.disconnect();
    this.socket = window.io(this.socketUrl, {
      path: this.socketPath,
      transports: ["websocket", "polling"],
      withCredentials: true,  // the load balancer's sticky cookie keeps long-polling on one replica
      auth: { token: this.token, session: sessionKey() }
    });
    this.socket.on("connect", function () {
      if (self.wasOffline) self.setStatus(TEXT.online);
      self.wasOffline = false;
      self.socket.emit("session_request", {});
    });
    this.socket.on("disconnect", function () { self.wasOffline = true; self.setStatus(TEXT.offline, true); });
    this.socket.on("connect_error", function () { self.wasOffline = true; self.setStatus(TEXT.offline, true); });
    this.socket.on("session_confirm", function (info) { self.onSession(info || {}); });
    this.socket.on("bot_uttered", function (message) { self.addBot(message || {}); });
    this.socket.on("bot_done", function (info) { self.answered((info || {}).id); });
    this.socket.on("session_expired", function (pending) { self.renew((pending || {}).id); });
  };

  /* The token expired while the chat was open: get a fresh one from the host page and
     reconnect; the message stays unanswered, so it is sent again. Without one, say so. */
  Chat.prototype.renew = function (id) {
    var self = this;
    var expired = function () { self.answered(id); self.setStatus(TEXT.expired, true); self.addBot({ text: TEXT.expiredReply }); };
    if (!this.getToken) return expired();
    Promise.resolve()
      .then(function () { return self.getToken(); })
      .then(function (token) {
        if (!token) return expired();
        self.token = token;
        self.connect();
      }, expired);
  };

  /* Sign in or out: a new identity is a new conversation, so start clean. */
  Chat.prototype.setToken = function (token) {
    this.token = token || null;
    this.log.textContent = "";
    this.connect();
  };

  Chat.prototype.onSession = function (info) {
    this.log.textContent = "";
    var who = info.signed_in ? TEXT.signedIn(info.account)
      : info.auth_error === "expired" ? TEXT.expired
      : info.auth_error === "invalid" ? TEXT.invalid : TEXT.anonymous;
    this.setStatus(who, !info.signed_in && !!info.auth_error);
    var history = info.history || [];
    var stored = {};
    if (!history.length && !this.unanswered.length) this.addBot({ text: TEXT.greeting });
    history.forEach(function (item) {
      if (item.from === "user") {
        this.addUser(item.text);
        if (item.id) stored[item.id] = true;
      } else {
        this.addBot({ text: item.text, quick_replies: item.buttons, agent: item.agent });
      }
    }, this);
    // Messages the server never stored are sent again; stored ones were answered above.
    var waiting = this.unanswered;
    this.unanswered = waiting.filter(function (item) { return !stored[item.id]; });
    this.unanswered.forEach(function (item) {
      this.addUser(item.title || item.message);
      this.emitMessage(item);
    }, this);
    this.setTyping(this.unanswered.length > 0);
  };

  Chat.prototype.setStatus = function (text, warn) {
    this.status.textContent = text;
    this.status.classList.toggle("pc-warn", !!warn);
  };

  Chat.prototype.setTyping = function (on) {
    clearTimeout(this.replyTimer);
    if (on) {
      this.typing.removeAttribute("hidden");
      var self = this;
      this.replyTimer = setTimeout(function () { self.setTyping(false); self.setStatus(TEXT.slow, true); }, REPLY_TIMEOUT_MS);
    } else {
      this.typing.setAttribute("hidden", "");
    }
  };

  Chat.prototype.send = function (text, title) {
    var item = { id: randomKey(), message: text, title: title || null };
    this.unanswered.push(item);
    this.addUser(title || text);
    this.setTyping(true);
    if (this.socket.connected) this.emitMessage(item);  // offline: sent at the next session_confirm
  };

  Chat.prototype.emitMessage = function (item) {
    var message = { message: item.message, id: item.id };
    if (item.title) message.title = item.title;
    this.socket.emit("user_uttered", message);
  };

  Chat.prototype.answered = function (id) {
    var index = -1;
    this.unanswered.forEach(function (item, i) { if (index < 0 && (item.id === id || !id)) index = i; });
    if (index >= 0) this.unanswered.splice(index, 1);
    if (!this.unanswered.length) this.setTyping(false);
  };

  Chat.prototype.addUser = function (text) {
    this.append(el("div", { class: "pc-msg pc-user" }, text));
  };

  Chat.prototype.addBot = function (message) {
    var bubble = el("div", { class: "pc-msg pc-bot" });
    if (message.agent) {
      // A person from Support: their name, and their words as plain text (no Markdown, no links).
      bubble.classList.add("pc-agent");
      bubble.appendChild(el("span", { class: "pc-agent-name" }, TEXT.agent(message.agent)));
      bubble.appendChild(document.createTextNode(message.text || ""));
    } else if (message.text) {
      if (message.alert) bubble.classList.add("pc-alert");  // a balance alert that waited for this visit
      renderMarkdown(message.text, bubble);
    }
    this.append(bubble);
    var replies = message.quick_replies || message.buttons || [];
    if (replies.length) {
      var group = el("div", { class: "pc-replies", role: "group" });
      var self = this;
      replies.forEach(function (reply) {
        var button = el("button", { type: "button", class: "pc-reply" }, reply.title);
        button.addEventListener("click", function () { self.send(reply.payload, reply.title); });
        group.appendChild(button);
      });
      this.append(group);
    }
  };

  Chat.prototype.append = function (node) {
    this.log.appendChild(node);
    this.log.scrollTop = this.log.scrollHeight;
  };

  window.PrepagoChat = {
    mount: function (options) { return new Chat(options); },
    renderMarkdown: renderMarkdown
  };
})();
