/* Demo page only: sign in as a demo customer through the local demo token issuer. */
(function () {
  var TOKEN_KEY = "prepago-demo-token", ACCOUNT_KEY = "prepago-demo-account";
  var chat = window.PrepagoChat.mount({ socketUrl: window.PREPAGO_CONFIG.socketUrl, token: sessionStorage.getItem(TOKEN_KEY) });
  function show(account) { document.getElementById("who").textContent = account ? "Cliente demo " + account : "Sin sesión"; }
  show(sessionStorage.getItem(ACCOUNT_KEY));
  document.querySelectorAll("[data-account]").forEach(function (button) {
    button.addEventListener("click", function () {
      var account = button.getAttribute("data-account");
      if (!account) { sessionStorage.clear(); show(null); chat.setToken(null); return; }
      fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ account: account }) })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          sessionStorage.setItem(TOKEN_KEY, data.token); sessionStorage.setItem(ACCOUNT_KEY, account);
          show(account); chat.setToken(data.token);
        })
        .catch(function () { alert("No se pudo iniciar la sesión demo."); });
    });
  });
})();
