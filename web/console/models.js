/*
 * The model section of the Insights page: the live version, the versions kept, and the
 * «Reentrenar» job (one at a time; its stage is polled while it runs). Text only, never HTML.
 */
(function () {
  "use strict";

  var el = window.PrepagoConsole.el, request = window.PrepagoConsole.request;
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function figure(value) { return value === null || value === undefined ? "–" : value.toFixed(3); }

  function render(data) {
    var live = data.live;
    $("model-live").textContent = live
      ? "En uso: " + live.version + " (creada el " + live.created + ", " + live.labels + " etiquetas de Soporte" +
        (live.dev_accuracy !== null ? ", exactitud en desarrollo " + figure(live.dev_accuracy) : "") + ")."
      : "Todavía no hay un modelo registrado.";
    var job = data.job;
    $("retrain").disabled = job.running;
    if (job.running) {
      $("retrain-status").textContent = "Reentrenando: " + (job.stage || "iniciando") + "…";
    } else if (job.state) {
      $("retrain-status").textContent = (job.finished ? "Último reentrenamiento (" + job.finished + "): " : "") + (job.message || "");
    } else {
      $("retrain-status").textContent = "";
    }
    var checks = $("retrain-checks");
    checks.textContent = "";
    (job.running ? [] : job.checks).forEach(function (line) { checks.appendChild(el("li", {}, line)); });
    var body = $("model-versions").querySelector("tbody");
    body.textContent = "";
    data.versions.forEach(function (v) {
      var row = el("tr", v.live ? { class: "cs-live-model" } : {});
      [v.version, v.status, v.created, String(v.labels), figure(v.dev_accuracy), figure(v.test_accuracy),
       figure(v.cv_macro_f1)].forEach(function (text) { row.appendChild(el("td", {}, text)); });
      body.appendChild(row);
    });
    clearTimeout(timer);
    if (job.running) timer = setTimeout(load, 3000);
  }

  function load() {
    request("GET", "/api/models").then(render, function (e) { $("retrain-status").textContent = e.message; });
  }

  $("retrain").addEventListener("click", function () {
    $("retrain").disabled = true;
    request("POST", "/api/models/retrain", {}).then(load, function (e) {
      $("retrain-status").textContent = e.message;
      load();
    });
  });
  load();
})();
