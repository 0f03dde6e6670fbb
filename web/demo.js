/* Demo page only: sign in as a demo customer through the local demo token issuer. */
(function () {
  var TOKEN_KEY = "prepago-demo-token", ACCOUNT_KEY = "prepago-demo-account";
  function demoToken(account) {
    return fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ account: account }) })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { sessionStorage.setItem(TOKEN_KEY, data.token); return data.token; });
  }
  var chat = window.PrepagoChat.mount({
    socketUrl: window.PREPAGO_CONFIG.socketUrl,
    token: sessionStorage.getItem(TOKEN_KEY),
    // When the token expires with the chat open, the widget asks for a fresh one.
    getToken: function () { var account = sessionStorage.getItem(ACCOUNT_KEY); return account ? demoToken(account) : null; }
  });
  function show(account) { document.getElementById("who").textContent = account ? "Cliente demo " + account : "Sin sesión"; }
  show(sessionStorage.getItem(ACCOUNT_KEY));
  document.querySelectorAll("[data-account]").forEach(function (button) {
    button.addEventListener("click", function () {
      var account = button.getAttribute("data-account");
      if (!account) { sessionStorage.clear(); show(null); chat.setToken(null); return; }
      demoToken(account)
        .then(function (token) { sessionStorage.setItem(ACCOUNT_KEY, account); show(account); chat.setToken(token); })
        .catch(function () { alert("No se pudo iniciar la sesión demo."); });
    });
  });
})();
