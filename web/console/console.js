/*
 * Consola de Soporte: the live queue and one case at a time.
 *
 * The server pushes a "changed" event (server-sent events) whenever a case or
 * a message changes; the page then reloads the queue and the open case. Every
 * state change is a POST with the session's CSRF token in X-CSRF-Token.
 * Customers' and agents' texts are put in the page with textContent only.
 */
(function () {
  "use strict";

  var selected = null;
  var AUTHORS = { customer: "Cliente", bot: "Asistente", system: "Aviso" };

  var el = window.PrepagoConsole.el, request = window.PrepagoConsole.request;

  function $(id) { return document.getElementById(id); }

  function renderQueue(list) {
    var queue = $("queue");
    queue.textContent = "";
    $("queue-empty").hidden = list.length > 0;
    var waiting = list.filter(function (c) { return c.status === "waiting"; }).length;
    document.title = (waiting ? "(" + waiting + ") " : "") + "Consola de Soporte";
    list.forEach(function (c) {
      var item = el("li");
      var button = el("button", { type: "button", "data-case": String(c.id) });
      if (c.id === selected) button.setAttribute("aria-current", "true");
      var head = el("strong", {}, "#" + c.id + " · " + c.channel + " · " + (c.account === "sin sesión" ? "sin sesión" : "cuenta " + c.account));
      button.appendChild(head);
      button.appendChild(document.createTextNode(" "));
      button.appendChild(el("span", { class: "cs-badge cs-" + c.status }, c.status_label));
      button.appendChild(el("br"));
      button.appendChild(el("span", {}, c.reason + " · " + c.opened));
      if (c.description) {
        button.appendChild(el("br"));
        button.appendChild(el("em", {}, "«" + c.description + "»"));
      }
      button.addEventListener("click", function () { open(c.id); });
      item.appendChild(button);
      queue.appendChild(item);
    });
  }

  function fact(list, name, value) {
    list.appendChild(el("dt", {}, name));
    list.appendChild(el("dd", {}, value));
  }

  function renderCase(c) {
    $("case").hidden = false;
    $("pick").hidden = true;
    $("case-title").textContent = "Caso #" + c.id + " · " + c.status_label;
    var facts = $("case-facts");
    facts.textContent = "";
    fact(facts, "Canal", c.channel);
    fact(facts, "Cuenta", c.account);
    fact(facts, "Motivo", c.reason);
    fact(facts, "Descripción", c.description || "(aún no la da)");
    fact(facts, "Abierto", c.opened);
    fact(facts, "Agente", c.agent || "nadie todavía");

    var context = $("context");
    context.textContent = "";
    if (c.context) {
      context.appendChild(el("strong", {}, c.context.company + " · saldo " + c.context.balance));
      context.appendChild(el("p", {}, "Recarga automática: " + c.context.auto_recharge + ". Tarjeta: " + c.context.card + "."));
      if (c.context.last_deposit) context.appendChild(el("p", {}, "Último depósito: " + c.context.last_deposit));
      var moves = el("ul", { "aria-label": "Últimos movimientos" });
      c.context.movements.forEach(function (m) { moves.appendChild(el("li", {}, m)); });
      context.appendChild(el("span", {}, "Últimos movimientos:"));
      context.appendChild(moves);
      if (c.context.operations && c.context.operations.length) {
        var ops = el("ul", { "aria-label": "Operaciones desde el chat" });
        c.context.operations.forEach(function (o) { ops.appendChild(el("li", {}, o)); });
        context.appendChild(el("span", {}, "Operaciones desde el chat:"));
        context.appendChild(ops);
      }
    } else {
      context.appendChild(el("p", {}, "Cliente sin sesión verificada: no hay datos de cuenta."));
    }

    var log = $("transcript");
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.textContent = "";
    c.transcript.forEach(function (line) {
      var bubble = el("div", { class: "cs-line cs-" + line.author });
      bubble.appendChild(el("span", { class: "cs-who" }, (line.name || AUTHORS[line.author] || "") + " · " + line.at));
      bubble.appendChild(document.createTextNode(line.text));
      if (line.delivery) {
        var state = el("span", { class: "cs-delivery cs-" + line.delivery_state },
                       line.delivery + (line.delivery_note ? " (" + line.delivery_note + ")" : ""));
        bubble.appendChild(state);
      }
      log.appendChild(bubble);
    });
    if (atBottom) log.scrollTop = log.scrollHeight;

    var closed = c.status === "closed";
    $("take").disabled = c.status !== "waiting";
    $("close").disabled = closed;
    $("reply-text").disabled = closed;
    $("reply").querySelector("button").disabled = closed;
  }

  function showError(error) { $("case-error").textContent = error.message; }

  function loadQueue() {
    return request("GET", "/api/cases").then(function (data) { renderQueue(data.cases); });
  }

  function loadCase() {
    if (selected === null) return Promise.resolve();
    return request("GET", "/api/cases/" + selected).then(renderCase, showError);
  }

  function open(id) {
    selected = id;
    $("case-error").textContent = "";
    $("transcript").scrollTop = 1e9;
    loadCase().then(function () { $("transcript").scrollTop = $("transcript").scrollHeight; });
    loadQueue();
  }

  function act(action, body) {
    $("case-error").textContent = "";
    return request("POST", "/api/cases/" + selected + "/" + action, body).then(function (c) {
      renderCase(c);
      loadQueue();
    }, showError);
  }

  $("take").addEventListener("click", function () { act("take"); });
  $("close").addEventListener("click", function () { act("close"); });
  $("reply").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text) return;
    act("reply", { text: text }).then(function () {
      if (!$("case-error").textContent) $("reply-text").value = "";
    });
  });

  function listen() {
    var source = new EventSource("/api/events");
    source.addEventListener("open", function () {
      $("live").textContent = "En vivo";
      $("live").classList.remove("cs-warn");
    });
    source.addEventListener("changed", function () { loadQueue(); loadCase(); });
    source.addEventListener("error", function () {
      $("live").textContent = "Reconectando…";
      $("live").classList.add("cs-warn");
    });
  }

  loadQueue();
  listen();
})();
