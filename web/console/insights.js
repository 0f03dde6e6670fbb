/*
 * Insights: the figures and charts of a date range, and the questions the assistant did not
 * understand, with a label for each, a page at a time («Ver más» appends the next one and moves
 * the focus to its first row). Chart.js (from npm, served by the console) draws the charts;
 * every text reaches the page through textContent.
 */
(function () {
  "use strict";

  var charts = {};
  var PAGE = 20;
  var shown = 0;  // groups of the unanswered list on the page
  var COLORS = ["#2f6fed", "#2e7d32", "#b3261e", "#f2a900", "#6a4fb5", "#00838f"];

  var el = window.PrepagoConsole.el, request = window.PrepagoConsole.request;

  function $(id) { return document.getElementById(id); }

  function pct(value) { return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + " %"; }

  function query() { return "?since=" + $("since").value + "&until=" + $("until").value; }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    // Fixed-height boxes, and no animation: figures appear at once (and still for screenshots).
    config.options = Object.assign({ animation: false, maintainAspectRatio: false }, config.options || {});
    charts[id] = new window.Chart($(id), config);
  }

  function byDay(days, field) {
    var totals = {};
    days.forEach(function (d) { totals[d.day] = (totals[d.day] || 0) + d[field]; });
    return totals;
  }

  function renderFigures(data) {
    if (!$("since").value) $("since").value = data.range.since;
    if (!$("until").value) $("until").value = data.range.until;
    var t = data.totals;
    var kpis = $("kpis");
    kpis.textContent = "";
    [["Conversaciones", t.conversations], ["Mensajes", t.messages],
     ["Resueltas sin una persona", pct(t.containment)], ["Mensajes no entendidos", pct(t.fallback_rate)],
     ["Aclaraciones ofrecidas", pct(t.clarification_rate)], ["Eligieron una sugerencia", pct(t.picked_suggestion_rate)],
     ["Pasadas a una persona", pct(t.handoff_rate)], ["Consultas de cuenta", t.lookups],
     ["Respuesta (mediana / p95)", (data.response_ms.median === null ? "–" : data.response_ms.median + " / " + data.response_ms.p95 + " ms")]
    ].forEach(function (kpi) {
      var box = el("div");
      box.appendChild(el("dt", {}, kpi[0]));
      box.appendChild(el("dd", {}, String(kpi[1])));
      kpis.appendChild(box);
    });
    data.handoff_reasons.forEach(function (r) {
      var box = el("div");
      box.appendChild(el("dt", {}, "Motivo: " + r.reason));
      box.appendChild(el("dd", {}, String(r.cases)));
      kpis.appendChild(box);
    });

    var days = Object.keys(byDay(data.days, "messages")).sort();
    var conversations = byDay(data.days, "conversations"), messages = byDay(data.days, "messages");
    draw("chart-volume", { type: "bar", data: { labels: days, datasets: [
      { label: "Conversaciones", data: days.map(function (d) { return conversations[d]; }), backgroundColor: COLORS[0] },
      { label: "Mensajes", data: days.map(function (d) { return messages[d]; }), backgroundColor: COLORS[3] }] } });

    var contained = byDay(data.days, "contained"), fallbacks = byDay(data.days, "fallbacks"), handoffs = byDay(data.days, "handoffs");
    function rate(part, whole) { return days.map(function (d) { return whole[d] ? +(100 * part[d] / whole[d]).toFixed(1) : null; }); }
    draw("chart-rates", { type: "line", data: { labels: days, datasets: [
      { label: "Contención %", data: rate(contained, conversations), borderColor: COLORS[1] },
      { label: "Fallback %", data: rate(fallbacks, messages), borderColor: COLORS[2] },
      { label: "Pase a persona %", data: rate(handoffs, conversations), borderColor: COLORS[4] }] },
      options: { scales: { y: { min: 0, max: 100 } } } });

    var channels = {};
    data.days.forEach(function (d) { channels[d.channel] = (channels[d.channel] || 0) + d.conversations; });
    var names = Object.keys(channels);
    draw("chart-channels", { type: "doughnut", data: { labels: names, datasets: [
      { data: names.map(function (n) { return channels[n]; }), backgroundColor: COLORS }] } });

    draw("chart-intents", { type: "bar", options: { indexAxis: "y" }, data: {
      labels: data.top_intents.map(function (i) { return i.title; }),
      datasets: [{ label: "Mensajes", data: data.top_intents.map(function (i) { return i.messages; }), backgroundColor: COLORS[0] }] } });
  }

  function showConversation(sender) {
    request("GET", "/api/insights/conversations/" + encodeURIComponent(sender)).then(function (data) {
      var box = $("conversation-lines");
      box.textContent = "";
      data.lines.forEach(function (line) {
        var bubble = el("div", { class: "cs-line cs-" + line.author });
        bubble.appendChild(el("span", { class: "cs-who" }, line.author === "customer" ? "Cliente" : "Asistente"));
        bubble.appendChild(document.createTextNode(line.text));
        box.appendChild(bubble);
      });
      $("conversation").hidden = false;
      $("conversation").scrollIntoView();
    }, function (error) { $("error").textContent = error.message; });
  }

  function count(n) { return n.toLocaleString("es-MX"); }

  function renderMissed(data) {
    var body = $("missed").querySelector("tbody");
    if (data.offset === 0) body.textContent = "";
    var first = null;
    $("missed-empty").hidden = data.total > 0;
    data.groups.forEach(function (group) {
      var row = el("tr");
      var question = el("td", { tabindex: "-1" });
      if (!first) first = question;
      question.appendChild(el("strong", {}, group.text));
      if (group.examples.length > 1) question.appendChild(el("div", { class: "cs-who" }, "También: " + group.examples.slice(1).join(" · ")));
      row.appendChild(question);
      row.appendChild(el("td", {}, String(group.count)));
      row.appendChild(el("td", {}, group.guesses.map(function (g) { return g.title + " (" + g.confidence.toFixed(2) + ")"; }).join(", ")));
      var link = el("td");
      var open = el("button", { type: "button", class: "cs-secondary" }, "Ver");
      open.addEventListener("click", function () { showConversation(group.conversation); });
      link.appendChild(open);
      row.appendChild(link);
      var cell = el("td");
      var select = el("select", { "aria-label": "Etiqueta para «" + group.text + "»" });
      select.appendChild(el("option", { value: "" }, "— elige —"));
      data.intents.forEach(function (choice) {
        var option = el("option", { value: choice.intent }, choice.title === choice.intent ? choice.intent : choice.title + " (" + choice.intent + ")");
        if (group.label === choice.intent) option.selected = true;
        select.appendChild(option);
      });
      var outside = el("option", { value: "out_of_scope" }, "Fuera de alcance");
      if (group.label === "out_of_scope") outside.selected = true;
      select.appendChild(outside);
      var save = el("button", { type: "button" }, "Guardar");
      var saved = el("span", { class: "cs-who", role: "status" }, group.label ? "Etiquetada" : "");
      save.addEventListener("click", function () {
        request("POST", "/api/insights/labels", { text: group.text, label: select.value }).then(function () {
          saved.textContent = "Etiquetada";
        }, function (error) { saved.textContent = error.message; });
      });
      cell.appendChild(select);
      cell.appendChild(save);
      cell.appendChild(saved);
      row.appendChild(cell);
      body.appendChild(row);
    });
    shown = data.offset + data.groups.length;
    $("missed-count").textContent = data.total ? "Mostrando " + count(shown) + " de " + count(data.total) + " grupos." : "";
    $("missed-more").hidden = shown >= data.total;
    if (data.offset > 0 && first) first.focus();
  }

  function loadMissed(offset) {
    $("missed-more").disabled = true;
    return request("GET", "/api/insights/unanswered" + query() + "&limit=" + PAGE + "&offset=" + offset)
      .then(renderMissed, function (e) { $("error").textContent = e.message; })
      .then(function () { $("missed-more").disabled = false; });
  }

  function load() {
    $("error").textContent = "";
    $("csv").setAttribute("href", "/api/insights.csv" + query());
    request("GET", "/api/insights" + query()).then(renderFigures, function (e) { $("error").textContent = e.message; });
    loadMissed(0);
  }

  // The first load asks for the server's default range (the last 30 days in Mexico City) and shows it.
  $("range").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  $("missed-more").addEventListener("click", function () { loadMissed(shown); });
  load();
})();
