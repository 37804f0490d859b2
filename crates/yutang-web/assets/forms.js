// Console forms (served from here; the console loads nothing from elsewhere).
//
// 1. A field group with `data-when="kind=amount_off discount"` shows only while the form's
//    `kind` control has one of those values; while hidden its inputs are disabled, so they are
//    not sent either. Without this script every group shows and the server reads only the
//    chosen type's fields.
// 2. An input with `data-filter-for="segment_id"` filters that <select>'s options by the typed
//    text (name, case-insensitive) and keeps a visible option chosen.
// 3. A file input with `data-preview="image-preview"` shows the chosen image in that <img>
//    before the form is sent (read locally as a data: URL; nothing is uploaded until Save,
//    and without this script the file is sent all the same).
(function () {
  "use strict";
  function sync(form) {
    form.querySelectorAll("[data-when]").forEach(function (group) {
      var rule = group.getAttribute("data-when").split("=");
      var control = form.elements[rule[0]];
      var values = (rule[1] || "").split(" ");
      var show = !!control && values.indexOf(control.value) >= 0;
      group.hidden = !show;
      group.querySelectorAll("input, select, textarea").forEach(function (el) {
        el.disabled = !show;
      });
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-when]")) return;
    form.addEventListener("change", function () { sync(form); });
    sync(form);
  });
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var img = document.getElementById(input.getAttribute("data-preview"));
    if (!img || !window.FileReader) return;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        img.removeAttribute("width");
        img.removeAttribute("height");
        img.src = reader.result;
        img.hidden = false;
      };
      reader.readAsDataURL(file);
    });
  });
  document.querySelectorAll("input[data-filter-for]").forEach(function (box) {
    var select = box.form && box.form.elements[box.getAttribute("data-filter-for")];
    if (!select) return;
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter") e.preventDefault();
    });
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (o) {
        var name = (o.getAttribute("data-name") || o.text).toLowerCase();
        var hit = q === "" || name.indexOf(q) >= 0;
        o.hidden = !hit;
        if (hit && !first) first = o;
      });
      var current = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
      if (first && (!current || current.hidden)) select.value = first.value;
      if (!first) select.selectedIndex = -1;
    });
  });
})();
