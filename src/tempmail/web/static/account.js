/*
 * The account page's logins without the password, and its passkeys: WebAuthn ceremonies
 * (/user_api/passkey/*) and the OAuth2 authorization-code round trip (/user_api/oauth2/*, the
 * provider sending the browser back to /user/oauth2/callback). Texts come from the page.
 */
(function () {
  "use strict";

  var tm = window.tempmail;
  var PENDING = "tm.oauth2"; // sessionStorage: {state, clientID} of the login under way
  var CALLBACK_PATH = "/user/oauth2/callback";

  function call(method, path, body) {
    var headers = Object.assign({ "Content-Type": "application/json" }, tm.authHeaders());
    var init = { method: method, headers: headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        if (!response.ok) throw new Error(text || String(response.status));
        return text ? JSON.parse(text) : null;
      });
    });
  }

  function fail(error) {
    tm.toast(error && error.message ? error.message : "", "error");
  }

  function loggedIn(data) {
    tm.after["store-user"](data);
  }

  /** The browser can run passkey ceremonies from the server's JSON options. */
  function passkeysWork(el) {
    var ok = window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON &&
      PublicKeyCredential.parseRequestOptionsFromJSON;
    if (!ok) tm.toast(el.closest("[data-unsupported]").dataset.unsupported, "error");
    return ok;
  }

  function passkeyLogin(button) {
    if (!passkeysWork(button)) return;
    var domain = location.hostname;
    call("POST", "/user_api/passkey/authenticate_request", { domain: domain })
      .then(function (options) {
        var publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
        return navigator.credentials.get({ publicKey: publicKey });
      })
      .then(function (credential) {
        return call("POST", "/user_api/passkey/authenticate_response", {
          origin: location.origin, domain: domain, credential: credential.toJSON(),
        });
      })
      .then(loggedIn, fail);
  }

  function passkeyRegister(form) {
    if (!passkeysWork(form)) return;
    call("POST", "/user_api/passkey/register_request", { domain: location.hostname })
      .then(function (options) {
        var publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
        return navigator.credentials.create({ publicKey: publicKey });
      })
      .then(function (credential) {
        return call("POST", "/user_api/passkey/register_response", {
          origin: location.origin, passkey_name: form.elements.passkey_name.value, credential: credential.toJSON(),
        });
      })
      .then(function () {
        tm.toast(tm.texts.saved);
        htmx.trigger(document.getElementById("user-panel"), "refresh");
      }, fail);
  }

  function randomState() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function oauth2Login(button) {
    var pending = { state: randomState(), clientID: button.dataset.oauth2Login };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    var query = new URLSearchParams({ clientID: pending.clientID, state: pending.state });
    call("GET", "/user_api/oauth2/login_url?" + query.toString())
      .then(function (data) { window.location.assign(data.url); }, fail);
  }

  /** Back from the provider: the code goes to the server, if the state is the one we sent. */
  function oauth2Callback() {
    if (location.pathname !== CALLBACK_PATH) return;
    var params = new URLSearchParams(location.search);
    var pending = null;
    try {
      pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    } catch (e) {
      pending = null;
    }
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", "/user");
    var box = document.querySelector("[data-state-error]");
    if (params.get("error")) {
      tm.toast(params.get("error_description") || params.get("error"), "error");
    } else if (!pending || !params.get("code") || params.get("state") !== pending.state) {
      tm.toast(box ? box.dataset.stateError : "", "error");
    } else {
      call("POST", "/user_api/oauth2/callback", { clientID: pending.clientID, code: params.get("code") })
        .then(loggedIn, fail);
    }
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target.closest("[data-passkey=login],[data-oauth2-login]");
    if (!target) return;
    if (target.dataset.passkey === "login") passkeyLogin(target);
    else oauth2Login(target);
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset.passkey !== "register") return;
    evt.preventDefault();
    passkeyRegister(form);
  });

  if (document.readyState === "complete") oauth2Callback();
  else document.addEventListener("DOMContentLoaded", oauth2Callback);
})();
