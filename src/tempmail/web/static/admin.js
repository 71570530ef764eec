/*
 * The admin console's OAuth2 provider list: add a blank provider (a copy of the page's
 * template, its fields numbered after the others) or remove one; the form then posts the whole
 * list (data-json-list, see app.js).
 */
(function () {
  "use strict";

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-oauth2]");
    if (!button) return;
    var form = button.closest("form");
    if (button.dataset.oauth2 === "remove") {
      button.closest("[data-provider]").remove();
      return;
    }
    var list = form.querySelector("[data-providers]");
    var next = Number(form.dataset.next || list.children.length);
    form.dataset.next = String(next + 1);
    var copy = document.getElementById("oauth2-blank").content.cloneNode(true);
    copy.querySelectorAll("[name]").forEach(function (field) {
      field.name = field.name.replace("__n__", String(next));
    });
    var fieldset = copy.querySelector("[data-provider]");
    list.append(copy);
    var empty = form.querySelector("[data-no-providers]");
    if (empty) empty.remove();
    fieldset.querySelector("input").focus();
  });
})();
