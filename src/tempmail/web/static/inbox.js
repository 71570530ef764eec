/*
 * tempmail web UI: what a mail list does besides showing mail (issue 19). Search, the page size
 * (kept in this browser), selecting mails and deleting or marking them, relative times, the
 * unread count in the tab's title, the full-screen reader and the inbox's keys.
 * Needs app.js (window.tempmail: credentials as headers, toasts, what follows a delete). Texts
 * come from the page (data attributes of the list, the keys dialog), never from here.
 */
(function () {
  "use strict";

  var PAGE_SIZE_KEY = "tm.pageSize";
  var PAGE_SIZES = [10, 20, 50, 100];
  var SEARCH_DELAY_MS = 250;
  var CLOCK_MS = 30000;
  var MAIL_LIST = /\/mails(_unknown)?$/;
  var TYPING = /^(text|search|email|password|number|url|tel)$/;
  var baseTitle = document.title;
  var cursor = null; // the id of the mail the keys act on
  var searchDue = null;

  function app() { return window.tempmail; }

  function lang() { return document.documentElement.lang || undefined; }

  function pageSize() {
    var size = parseInt(localStorage.getItem(PAGE_SIZE_KEY), 10);
    return PAGE_SIZES.indexOf(size) >= 0 ? size : null;
  }

  function searchBox() { return document.querySelector("[data-mail-search]"); }

  /** A list host of mail (`/ui/mails`, `/ui/user/mails`, `/ui/admin/mails`, ..._unknown). */
  function isMailHost(el) {
    if (!el.classList || !el.classList.contains("list-host") || !el.getAttribute("hx-get")) return false;
    return MAIL_LIST.test(new URL(el.getAttribute("hx-get"), location.origin).pathname);
  }

  // A host loads its first page with the page size chosen here and, in the inbox, the search.
  document.addEventListener("htmx:configRequest", function (evt) {
    var host = evt.detail.elt;
    if (!isMailHost(host)) return;
    var url = new URL(evt.detail.path, location.origin);
    var size = pageSize();
    if (size) url.searchParams.set("limit", String(size));
    url.searchParams.set("offset", "0");
    var box = searchBox();
    if (host.id === "mail-list" && box) {
      if (box.value.trim()) url.searchParams.set("q", box.value.trim());
      else url.searchParams.delete("q");
    }
    evt.detail.path = url.pathname + url.search;
  });

  function refreshHost(el) {
    var host = el.closest ? el.closest(".list-host") : null;
    if (host) htmx.trigger(host, "refresh");
  }

  function inboxList() { return document.getElementById("mail-list"); }

  // --- search ---------------------------------------------------------------------------------

  document.addEventListener("input", function (evt) {
    if (!evt.target.matches("[data-mail-search]")) return;
    clearTimeout(searchDue);
    searchDue = setTimeout(function () { htmx.trigger(inboxList(), "refresh"); }, SEARCH_DELAY_MS);
  });

  document.addEventListener("submit", function (evt) {
    if (!evt.target.matches("[data-mail-search-form]")) return;
    evt.preventDefault();
    clearTimeout(searchDue);
    htmx.trigger(inboxList(), "refresh");
  });

  // --- selection and bulk actions ---------------------------------------------------------------

  function checked(list) {
    return Array.prototype.map.call(list.querySelectorAll(".mail-check:checked"), function (box) { return box.value; });
  }

  function updateBulk(list) {
    var count = checked(list).length;
    list.querySelectorAll("[data-bulk]").forEach(function (button) { button.disabled = count === 0; });
    var all = list.querySelector("[data-select-all]");
    var boxes = list.querySelectorAll(".mail-check");
    if (all) {
      all.checked = count > 0 && count === boxes.length;
      all.indeterminate = count > 0 && count < boxes.length;
    }
  }

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    var list = el.closest(".maillist");
    if (el.matches("[data-page-size]")) {
      localStorage.setItem(PAGE_SIZE_KEY, el.value);
      refreshHost(el);
    } else if (list && el.matches("[data-select-all]")) {
      list.querySelectorAll(".mail-check").forEach(function (box) { box.checked = el.checked; });
      updateBulk(list);
    } else if (list && el.matches(".mail-check")) {
      updateBulk(list);
    }
  });

  function request(method, url, body) {
    var headers = app().authHeaders();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        if (!response.ok) return response.text().then(function (text) { throw new Error(text || String(response.status)); });
        return response;
      });
  }

  function failed(error) { app().toast(error.message || app().texts.offline, "error"); }

  /** Delete these mails of `list`'s scope, then what a deleted mail does (reader, lists). */
  function deleteMails(list, ids) {
    var prefix = list.dataset.deletePrefix;
    Promise.all(ids.map(function (id) { return request("DELETE", prefix + id); }))
      .catch(failed)
      .then(function () { app().after["mail-deleted"](); });
  }

  function markSeen(list, ids, seen) {
    request("POST", list.dataset.seenUrl, { ids: ids.map(Number), seen: seen })
      .then(function () { refreshHost(list); }, failed);
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-bulk]");
    if (button) {
      var list = button.closest(".maillist");
      var ids = checked(list);
      if (!ids.length) return;
      if (button.dataset.bulk === "delete") {
        if (window.confirm(list.dataset.confirmMany)) deleteMails(list, ids);
      } else {
        markSeen(list, ids, button.dataset.bulk === "read");
      }
      return;
    }
    var item = evt.target.closest(".mail-item");
    if (item) {
      cursor = item.dataset.mailId;
      var row = item.closest(".mail-row");
      if (row) row.classList.remove("unread");
      return;
    }
    if (evt.target.closest("[data-fullscreen]")) setFullScreen(!document.body.classList.contains("reader-full"));
    else if (evt.target.closest("[data-action=close-reader]")) setFullScreen(false);
    else if (evt.target.closest("[data-keys-help]")) showKeys();
    else if (evt.target.closest("[data-list-refresh]")) htmx.trigger(inboxList(), "refresh");
  });

  // --- relative times -------------------------------------------------------------------------

  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function relative(when) {
    var seconds = Math.round((when.getTime() - Date.now()) / 1000);
    var format = new Intl.RelativeTimeFormat(lang(), { numeric: "auto" });
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1]) return format.format(Math.trunc(seconds / UNITS[i][1]), UNITS[i][0]);
    }
    return format.format(0, "second");
  }

  function showTimes(root) {
    root.querySelectorAll("time[data-relative]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime").replace(" ", "T") + "Z");
      if (isNaN(when)) return;
      el.textContent = relative(when);
      el.title = when.toLocaleString(lang());
    });
  }

  // --- unread count in the title (the inbox of one address) ----------------------------------

  function refreshUnread() {
    if (document.body.dataset.page !== "inbox" || !inboxList()) return;
    var headers = app().authHeaders();
    if (!headers.Authorization) {
      document.title = baseTitle;
      return;
    }
    fetch("/api/unread_count", { headers: headers, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        document.title = data.count > 0 ? "(" + data.count + ") " + baseTitle : baseTitle;
      }, function () {});
  }

  document.addEventListener("tm:live", refreshUnread);

  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target.id === "reader" || target.id === "mail-list") refreshUnread();
    if (target.closest && target.closest("#mail-list")) refreshUnread();
  });

  document.addEventListener("htmx:load", function (evt) {
    showTimes(evt.detail.elt);
    evt.detail.elt.querySelectorAll(".maillist").forEach(function (list) {
      updateBulk(list);
      var item = cursor && list.querySelector('.mail-item[data-mail-id="' + cursor + '"]');
      if (item) item.closest(".mail-row").classList.add("cursor");
    });
  });

  // --- full-screen reader ---------------------------------------------------------------------

  function setFullScreen(on) {
    document.body.classList.toggle("reader-full", on);
    document.querySelectorAll("[data-fullscreen]").forEach(function (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  // --- keys -----------------------------------------------------------------------------------

  function showKeys() {
    var dialog = document.getElementById("keys-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function items() {
    var list = inboxList();
    return list ? Array.prototype.slice.call(list.querySelectorAll(".mail-item")) : [];
  }

  function cursorItem() {
    var all = items();
    var focused = all.indexOf(document.activeElement);
    if (focused >= 0) return all[focused];
    return all.find(function (item) { return item.dataset.mailId === cursor; }) ||
      all.find(function (item) { return item.getAttribute("aria-current") === "true"; }) || null;
  }

  function move(step) {
    var all = items();
    if (!all.length) return;
    var index = all.indexOf(cursorItem());
    var next = all[index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1)];
    cursor = next.dataset.mailId;
    all.forEach(function (item) { item.closest(".mail-row").classList.toggle("cursor", item === next); });
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function deleteCursor() {
    var item = cursorItem();
    if (!item) return;
    var list = item.closest(".maillist");
    if (window.confirm(list.dataset.confirmOne)) deleteMails(list, [item.dataset.mailId]);
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && TYPING.test(el.type);
  }

  document.addEventListener("keydown", function (evt) {
    if (!document.getElementById("keys-dialog") || evt.ctrlKey || evt.metaKey || evt.altKey) return;
    if (document.querySelector("dialog[open]") || typing(evt.target)) return;
    var key = evt.key;
    if (key === "Escape") {
      if (document.body.classList.contains("reader-full")) setFullScreen(false);
      return;
    }
    var onItem = document.activeElement && document.activeElement.classList.contains("mail-item");
    if (key === "j" || key === "ArrowDown") move(1);
    else if (key === "k" || key === "ArrowUp") move(-1);
    else if (key === "Enter" && !onItem && !evt.target.closest("button, a, summary")) {
      var item = cursorItem();
      if (item) item.click();
    } else if (key === "#" || key === "Delete") deleteCursor();
    else if (key === "/") {
      var box = searchBox();
      if (box) box.focus();
    } else if (key === "?") showKeys();
    else return;
    if (key !== "Enter" || !onItem) evt.preventDefault();
  });

  // --- start ----------------------------------------------------------------------------------

  function start() {
    var size = pageSize();
    document.querySelectorAll("[data-page-size]").forEach(function (select) { if (size) select.value = String(size); });
    showTimes(document.body);
    setInterval(function () { showTimes(document.body); }, CLOCK_MS);
    refreshUnread();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
