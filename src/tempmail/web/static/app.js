/*
 * tempmail web UI. The server renders pages and fragments; this file adds what htmx does not:
 * credentials kept in this browser (localStorage) and sent with every request as the API's own
 * headers, forms that post JSON, toasts, copy and download, new mail pushed by the server
 * (polled when the push is down), language and theme.
 * Loaded from /static only: the pages' Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";

  var KEYS = {
    addresses: "tm.addresses", // [{address, jwt, password}]
    current: "tm.current",
    user: "tm.user", // user JWT (x-user-token)
    access: "tm.access", // role token (x-user-access-token)
    admin: "tm.admin", // admin password (x-admin-auth)
    site: "tm.site", // site password (x-custom-auth)
  };
  var POLL_MS = 5000;
  var ADMIN_CHECK = "/admin/user_settings"; // any admin route: answers 401 to a wrong password
  var texts = JSON.parse(document.getElementById("tm-texts").textContent);
  // The page's language (`<html lang>`, zh-CN for zh), sent as x-lang: API errors in toasts match it.
  var lang = document.documentElement.lang.indexOf("zh") === 0 ? "zh" : document.documentElement.lang;
  var selectedMail = null;

  // --- storage ------------------------------------------------------------------------------

  function read(key, fallback) {
    try {
      var value = localStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function write(key, value) {
    if (value === null || value === undefined || value === "") localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  }

  function addresses() {
    var list = read(KEYS.addresses, []);
    return Array.isArray(list) ? list : [];
  }

  function currentAddress() {
    var list = addresses();
    var name = read(KEYS.current, "");
    return list.find(function (a) { return a.address === name; }) || list[0] || null;
  }

  function rememberAddress(entry) {
    var list = addresses().filter(function (a) { return a.address !== entry.address; });
    list.unshift(entry);
    write(KEYS.addresses, list);
    write(KEYS.current, entry.address);
  }

  function forgetAddress(name) {
    write(KEYS.addresses, addresses().filter(function (a) { return a.address !== name; }));
    var next = addresses()[0];
    write(KEYS.current, next ? next.address : null);
  }

  /** The payload of a JWT, or null: the address credential names its address. */
  function jwtPayload(token) {
    try {
      var part = String(token).trim().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var bytes = Uint8Array.from(atob(part), function (c) { return c.charCodeAt(0); });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return null;
    }
  }

  /** Every credential this browser holds, as the headers the API reads. */
  function authHeaders() {
    var headers = { "x-lang": lang };
    var address = currentAddress();
    if (address) headers.Authorization = "Bearer " + address.jwt;
    var pairs = [[KEYS.user, "x-user-token"], [KEYS.access, "x-user-access-token"],
      [KEYS.admin, "x-admin-auth"], [KEYS.site, "x-custom-auth"]];
    pairs.forEach(function (pair) {
      var value = read(pair[0], "");
      if (value) headers[pair[1]] = value;
    });
    return headers;
  }

  // --- feedback -------------------------------------------------------------------------------

  function format(text, params) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return key in params ? params[key] : all; });
  }

  function toast(message, kind) {
    var item = document.createElement("div");
    item.className = "toast " + (kind || "ok");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = String(message || texts.failed).slice(0, 400);
    document.getElementById("toasts").append(item);
    setTimeout(function () { item.remove(); }, kind === "error" ? 8000 : 3500);
  }

  function copy(text) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    var done = function () { toast(texts.copied); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(); done(); });
    } else {
      fallback();
      done();
    }
  }

  function showSecret(title, secret, address) {
    var dialog = document.getElementById("secret-dialog");
    dialog.querySelector("[data-slot=title]").textContent = title;
    dialog.querySelector("[data-slot=secret]").value = secret;
    var open = dialog.querySelector("[data-action=open-secret]");
    open.hidden = !address;
    open.dataset.jwt = address ? address.jwt : "";
    if (!dialog.open) dialog.showModal();
  }

  function credentialText(entry) {
    return entry.password ? entry.jwt + "\n\npassword: " + entry.password : entry.jwt;
  }

  // --- state: what shows, what loads ----------------------------------------------------------

  function state() {
    return {
      address: !!currentAddress(),
      user: !!read(KEYS.user, ""),
      admin: !!(read(KEYS.admin, "") || read(KEYS.access, "")),
    };
  }

  function applyState() {
    var has = state();
    document.querySelectorAll("[data-needs]").forEach(function (el) {
      var need = el.dataset.needs;
      var negated = need.indexOf("no-") === 0;
      var value = has[negated ? need.slice(3) : need];
      el.hidden = negated ? value : !value;
    });
    document.querySelectorAll("[data-needs-address]").forEach(function (el) { el.hidden = !has.address; });
    var panel = document.querySelector("[data-new-address]");
    if (panel && !panel.dataset.toggled) panel.hidden = has.address;
    renderPicker();
    if (document.readyState === "complete") connectLive();
  }

  /** (Re)load every fragment of the visible parts of the page. */
  function reloadData() {
    document.querySelectorAll("[hx-trigger*='tm-load']").forEach(function (el) {
      delete el.dataset.pollPaused;
      if (!el.closest("[hidden]")) htmx.trigger(el, "tm-load");
    });
  }

  function renderPicker() {
    var current = currentAddress();
    document.querySelectorAll("[data-current-address]").forEach(function (el) {
      el.textContent = current ? current.address : "";
    });
    var picker = document.querySelector("[data-address-picker]");
    if (!picker) return;
    picker.replaceChildren.apply(picker, addresses().map(function (entry) {
      var option = document.createElement("option");
      option.value = entry.address;
      option.textContent = entry.address;
      option.selected = !!current && entry.address === current.address;
      return option;
    }));
  }

  function clearReader() {
    var reader = document.getElementById("reader");
    if (reader) reader.replaceChildren(emptyNote(reader));
    document.body.classList.remove("reading");
    selectedMail = null;
  }

  function emptyNote(reader) {
    var note = document.createElement("p");
    note.className = "empty";
    note.textContent = reader.dataset.emptyText || "";
    return note;
  }

  function refresh(origin, selector) {
    selector.split(",").forEach(function (one) {
      one = one.trim();
      var targets = one.indexOf("closest ") === 0 ? [origin.closest(one.slice(8))] : document.querySelectorAll(one);
      Array.prototype.forEach.call(targets, function (target) { if (target) htmx.trigger(target, "refresh"); });
    });
  }

  // --- what a successful request does next (data-then) ----------------------------------------

  var after = {
    "store-address": function (data) {
      if (!data || !data.jwt) return;
      var entry = { address: data.address, jwt: data.jwt, password: data.password || null };
      rememberAddress(entry);
      toast(format(texts.addressAdded, { address: data.address }));
      var panel = document.querySelector("[data-new-address]");
      if (panel) delete panel.dataset.toggled;
      clearReader();
      applyState();
      reloadData();
    },
    "open-address": function (data) {
      // bind_address_jwt answers only {jwt}, as the reference: the address is in its payload.
      var address = data.address || (jwtPayload(data.jwt) || {}).address;
      rememberAddress({ address: address, jwt: data.jwt, password: null });
      window.location.href = "/";
    },
    "forget-address": function () {
      var current = currentAddress();
      if (current) forgetAddress(current.address);
      toast(texts.addressForgotten);
      clearReader();
      applyState();
      reloadData();
    },
    "store-user": function (data) {
      write(KEYS.user, data.jwt);
      toast(texts.loggedIn);
      applyState();
      reloadData();
    },
    "show-secret": function (data, elt) {
      var payload = jwtPayload(data.jwt) || {};
      var entry = { address: data.address || payload.address, jwt: data.jwt, password: data.password || null };
      showSecret(elt.dataset.title || entry.address, credentialText(entry), entry);
    },
    "mail-deleted": function () {
      clearReader();
      refresh(document.body, ".list-host");
    },
    "clear-reader": clearReader,
    "mail-sent": function () {
      toast(texts.sent);
      refresh(document.body, "#sendbox");
    },
  };

  // --- clicks and plain forms (data-action) ---------------------------------------------------

  var clicks = {
    "copy-address": function () {
      var current = currentAddress();
      if (current) copy(current.address);
    },
    "show-credential": function () {
      var current = currentAddress();
      if (current) showSecret(current.address, credentialText(current), null);
    },
    "toggle-new": function () {
      var panel = document.querySelector("[data-new-address]");
      panel.hidden = !panel.hidden;
      panel.dataset.toggled = "1";
    },
    "forget-address": after["forget-address"],
    "close-reader": clearReader,
    "close-dialog": function (el) { el.closest("dialog").close(); },
    "open-secret": function (el) {
      var payload = jwtPayload(el.dataset.jwt);
      if (!payload || !payload.address) return;
      rememberAddress({ address: payload.address, jwt: el.dataset.jwt, password: null });
      window.location.href = "/";
    },
    "user-logout": function () {
      write(KEYS.user, null);
      write(KEYS.access, null);
      toast(texts.loggedOut);
      applyState();
      reloadData();
    },
    "admin-logout": function () {
      write(KEYS.admin, null);
      toast(texts.loggedOut);
      applyState();
    },
  };

  var submits = {
    "site-password": function (form) {
      write(KEYS.site, form.elements.password.value);
      window.location.reload();
    },
    "admin-login": function (form) {
      // Checked before it is kept: the inbox page has nothing of the admin's to load that
      // would find a wrong one out.
      var password = form.elements.password.value;
      var headers = Object.assign(authHeaders(), { "x-admin-auth": password });
      fetch(ADMIN_CHECK, { headers: headers, cache: "no-store" }).then(function (response) {
        if (!response.ok) return response.text().then(function (text) { toast(text || String(response.status), "error"); });
        write(KEYS.admin, password);
        form.reset();
        toast(texts.loggedIn);
        applyState();
        reloadData();
      }, function () { toast(texts.offline, "error"); });
    },
    "import-credential": function (form) {
      var jwt = form.elements.jwt.value.trim().split(/\s/)[0];
      var payload = jwtPayload(jwt);
      if (!payload || !payload.address) {
        toast(texts.badCredential, "error");
        return;
      }
      form.reset();
      after["store-address"]({ address: payload.address, jwt: jwt });
    },
  };

  document.addEventListener("click", function (evt) {
    var target = evt.target.closest("[data-action],[data-copy],[data-copy-from],[data-download],.mail-item");
    if (!target || target.tagName === "FORM") return;
    if (target.classList.contains("mail-item")) {
      selectedMail = target.dataset.mailId;
      markSelected(document);
      return;
    }
    if (target.dataset.copy) copy(target.dataset.copy);
    else if (target.dataset.copyFrom) copy(document.querySelector(target.dataset.copyFrom).value);
    else if (target.dataset.download) download(target);
    else if (clicks[target.dataset.action]) clicks[target.dataset.action](target);
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (submits[form.dataset.action]) {
      evt.preventDefault();
      submits[form.dataset.action](form);
    }
  });

  function download(button) {
    fetch(button.dataset.download, { headers: authHeaders() }).then(function (response) {
      if (!response.ok) return response.text().then(function (text) { toast(text, "error"); });
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = document.createElement("a");
        link.href = url;
        link.download = button.dataset.filename || "attachment";
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
      });
    }, function () { toast(texts.offline, "error"); });
  }

  function markSelected(root) {
    root.querySelectorAll(".mail-item").forEach(function (item) {
      if (item.dataset.mailId === selectedMail) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
  }

  // --- forms that post JSON: hx-ext="json" ----------------------------------------------------

  function setPath(target, dotted, value) {
    var parts = dotted.split(".");
    var node = target;
    parts.slice(0, -1).forEach(function (part) {
      if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
      node = node[part];
    });
    node[parts[parts.length - 1]] = value;
  }

  /** A field's JSON value by its data-type: bool, int, list (one a line), json, sha256
   * (passwords travel as their SHA-256 hex, API.md §2), else the text. */
  function fieldValue(field) {
    var type = field.dataset.type || (field.type === "checkbox" ? "bool" : "text");
    if (type === "bool") return field.checked;
    if (type === "int") return field.value.trim() === "" ? undefined : parseInt(field.value, 10);
    if (type === "list") return field.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    if (type === "json") {
      try {
        return JSON.parse(field.value || "null");
      } catch (e) {
        field.focus();
        throw new Error((field.closest("label") || field).textContent.trim() + ": " + e.message);
      }
    }
    if (type === "sha256") return sha256(field.value);
    if (type === "name-or-random") return field.value.trim() || randomName();
    return field.value;
  }

  /** Ten of [a-z0-9], for a form whose route wants a name (the admin's new address). */
  function randomName() {
    var alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from(crypto.getRandomValues(new Uint8Array(10)), function (byte) {
      return alphabet[byte % alphabet.length];
    }).join("");
  }

  function formJson(elt) {
    if (elt.dataset.json) return JSON.parse(elt.dataset.json);
    var form = elt.tagName === "FORM" ? elt : elt.closest("form");
    var body = {};
    if (!form) return body;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.type === "submit" || field.type === "button") return;
      var value = fieldValue(field);
      if (value !== undefined) setPath(body, field.name, value);
    });
    // data-json-list: fields named `<n>.<key>` make a list of objects, in the order of n.
    return form.hasAttribute("data-json-list") ? Object.values(body) : body;
  }

  function defineJsonExtension() {
    htmx.defineExtension("json", {
      onEvent: function (name, evt) {
        if (name !== "htmx:configRequest") return true;
        try {
          evt.detail.elt.tmJson = JSON.stringify(formJson(evt.detail.elt));
        } catch (e) {
          toast(e.message, "error");
          evt.preventDefault();
          return false;
        }
        evt.detail.headers["Content-Type"] = "application/json";
        return true;
      },
      encodeParameters: function (xhr, parameters, elt) {
        xhr.overrideMimeType("text/plain");
        return elt.tmJson;
      },
    });
  }

  // --- htmx events ----------------------------------------------------------------------------

  document.addEventListener("htmx:configRequest", function (evt) {
    Object.assign(evt.detail.headers, authHeaders());
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!evt.detail.successful || !elt.dataset) return;
    var data = null;
    try {
      data = JSON.parse(evt.detail.xhr.responseText);
    } catch (e) {
      data = null;
    }
    if (elt.dataset.ok) toast(elt.dataset.ok);
    if (elt.dataset.then && after[elt.dataset.then]) after[elt.dataset.then](data, elt);
    if (elt.dataset.refresh) refresh(elt, elt.dataset.refresh);
    if (elt.tagName === "FORM" && elt.hasAttribute("data-reset")) elt.reset();
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var elt = evt.detail.elt;
    if (elt.hasAttribute("data-poll")) {
      if (elt.dataset.pollPaused) return;
      elt.dataset.pollPaused = "1";
    }
    toast(xhr.responseText || String(xhr.status), "error");
    if (xhr.status === 401) checkSitePassword();
    if (xhr.status === 401 && document.body.dataset.page === "admin") {
      write(KEYS.admin, null);
      applyState();
    }
  });

  document.addEventListener("htmx:sendError", function () { toast(texts.offline, "error"); });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target.id === "reader" && target.querySelector("article")) document.body.classList.add("reading");
    if (target.hasAttribute("data-poll")) delete target.dataset.pollPaused;
  });

  document.addEventListener("htmx:load", function (evt) { enhance(evt.detail.elt); });

  /** What new content needs: local times, the selected mail, renewed user tokens. */
  function enhance(root) {
    root.querySelectorAll("time[data-utc]").forEach(function (el) {
      var stamp = el.getAttribute("datetime");
      var when = new Date(stamp.replace(" ", "T") + "Z");
      if (!isNaN(when)) {
        el.textContent = when.toLocaleString(lang === "en" ? undefined : document.documentElement.lang);
        el.title = stamp + " UTC";
      }
    });
    markSelected(root);
    root.querySelectorAll("[data-user-tokens]").forEach(function (el) {
      if (el.dataset.renewedToken) write(KEYS.user, el.dataset.renewedToken);
      write(KEYS.access, el.dataset.accessToken || null);
    });
    root.querySelectorAll("[data-needs-address]").forEach(function (el) { el.hidden = !state().address; });
  }

  // --- new mail: pushed by the server while the stream is up, polled while it is not ----------

  /** The first page of every visible mail list, loaded again. */
  function refreshLists() {
    document.querySelectorAll("[data-poll]").forEach(function (el) {
      var list = el.querySelector("[data-offset]");
      if (el.closest("[hidden]") || el.dataset.pollPaused || !list || list.dataset.offset !== "0") return;
      htmx.trigger(el, "refresh");
    });
  }

  function poll() {
    if (document.hidden || live.connected) return;
    refreshLists();
  }

  // The event stream of the page's mail (the JSON API's /api/events, /user_api/events,
  // /admin/events), read through fetch, which sends the credentials as headers (EventSource
  // cannot). While it is connected the timer does not poll; when it fails, the timer polls and
  // the stream is tried again, each time a little later.
  var STREAMS = { inbox: "/api/events", user: "/user_api/events", admin: "/admin/events" };
  var live = { connected: false, controller: null, key: "", pause: 1000, due: null };

  function streamPath() {
    var page = document.body.dataset.page;
    var has = state();
    var allowed = { inbox: has.address, user: has.user, admin: has.admin }[page];
    return allowed ? STREAMS[page] : null;
  }

  function connectLive() {
    var path = streamPath();
    var headers = authHeaders();
    var key = path ? path + " " + JSON.stringify(headers) : "";
    if (key === live.key && (live.controller || live.due)) return;
    if (live.controller) live.controller.abort();
    clearTimeout(live.due);
    live.controller = null;
    live.due = null;
    live.connected = false;
    live.key = key;
    delete document.body.dataset.live;
    if (!path || !window.ReadableStream) return;
    var controller = new AbortController();
    live.controller = controller;
    fetch(path, { headers: headers, signal: controller.signal, cache: "no-store" }).then(function (response) {
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      live.connected = true;
      live.pause = 1000;
      document.body.dataset.live = "on";
      refreshLists(); // what came while it was not connected
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("stream closed");
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(onLiveEvent);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (controller.signal.aborted) return;
      live.connected = false;
      live.controller = null;
      delete document.body.dataset.live;
      live.due = setTimeout(function () {
        live.due = null;
        live.key = "";
        connectLive();
      }, live.pause);
      live.pause = Math.min(live.pause * 2, 30000);
    });
  }

  var refreshDue = null;

  function onLiveEvent(block) {
    var kind = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
    });
    if (kind !== "mail" && kind !== "deleted") return;
    document.dispatchEvent(new CustomEvent("tm:live", { detail: { kind: kind } }));
    // A burst of mail is one refresh.
    if (!refreshDue) refreshDue = setTimeout(function () { refreshDue = null; refreshLists(); }, 50);
  }

  // --- preferences, site password ---------------------------------------------------------------

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.matches("[data-address-picker]")) {
      write(KEYS.current, el.value);
      clearReader();
      applyState();
      reloadData();
    } else if (el.dataset.pref) {
      document.cookie = el.dataset.pref + "=" + encodeURIComponent(el.value) +
        "; path=/; max-age=" + (el.value ? 31536000 : 0) + "; samesite=lax";
      if (el.dataset.pref === "theme") {
        if (el.value) document.documentElement.dataset.theme = el.value;
        else delete document.documentElement.dataset.theme;
      } else {
        window.location.reload();
      }
    }
  });

  /** The site password dialog when the server asks for one (PASSWORDS); true when it does. */
  function checkSitePassword() {
    return fetch("/open_api/settings", { headers: authHeaders() })
      .then(function (response) { return response.json(); })
      .then(function (settings) {
        if (settings.needAuth) {
          var dialog = document.getElementById("site-password");
          if (!dialog.open) dialog.showModal();
        }
        return settings.needAuth;
      }, function () { return false; });
  }

  // --- SHA-256 (passwords travel hashed; crypto.subtle is missing on plain-HTTP hosts) --------

  var K = [];
  (function () {
    var found = 0;
    for (var n = 2; found < 64; n++) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
      if (prime) K[found++] = (Math.cbrt(n) % 1) * 4294967296 >>> 0;
    }
  })();
  var H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

  function ror(x, n) { return (x >>> n) | (x << (32 - n)); }

  function sha256(text) {
    var bytes = new TextEncoder().encode(text);
    var total = Math.ceil((bytes.length + 9) / 64) * 64;
    var message = new Uint8Array(total);
    message.set(bytes);
    message[bytes.length] = 0x80;
    var view = new DataView(message.buffer);
    view.setUint32(total - 8, Math.floor(bytes.length / 0x20000000));
    view.setUint32(total - 4, (bytes.length * 8) >>> 0);
    var hash = H0.slice();
    var w = new Uint32Array(64);
    for (var offset = 0; offset < total; offset += 64) {
      for (var i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
      for (i = 16; i < 64; i++) {
        var s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      var a = hash[0], b = hash[1], c = hash[2], d = hash[3], e = hash[4], f = hash[5], g = hash[6], h = hash[7];
      for (i = 0; i < 64; i++) {
        var t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        var t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      [a, b, c, d, e, f, g, h].forEach(function (value, index) { hash[index] = (hash[index] + value) >>> 0; });
    }
    return hash.map(function (x) { return x.toString(16).padStart(8, "0"); }).join("");
  }

  // --- start ----------------------------------------------------------------------------------

  // What the page scripts of one screen (admin.js, account.js) share with this one.
  window.tempmail = { toast: toast, authHeaders: authHeaders, after: after, texts: texts };

  function start() {
    defineJsonExtension();
    var reader = document.getElementById("reader");
    if (reader) reader.dataset.emptyText = reader.textContent.trim();
    applyState();
    enhance(document.body);
    checkSitePassword().then(function (locked) {
      if (!locked) reloadData();
      connectLive();
    });
    setInterval(poll, POLL_MS);
  }

  // htmx processes the page on DOMContentLoaded; this listener comes after its own.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
