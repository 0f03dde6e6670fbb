/*
 * What both console pages share: building nodes (text only, never HTML), JSON requests with
 * the session's CSRF token, and marking the current section in the header.
 */
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function request(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { window.location.assign("/login"); throw new Error("sesión terminada"); }
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "Algo falló; intenta de nuevo.");
        return data;
      });
    });
  }

  document.querySelectorAll(".cs-nav a").forEach(function (link) {
    if (link.getAttribute("href") === window.location.pathname) link.setAttribute("aria-current", "page");
  });

  window.PrepagoConsole = { el: el, request: request };
})();
