// The segment builder: rows of conditions that write a segment expression into the text box,
// and a live count as the expression changes. The text box stays the source of truth (it can
// be edited by hand); without this script the page still works through its plain form.
// Text and rows round-trip: the text (on load and after typing) is read back into rows by the
// server's parser (/console/segments/rows.json); text the rows cannot show is kept, flagged,
// and added conditions are joined to it with `and`. Removing every row clears the text.
(function () {
  "use strict";
  var root = document.getElementById("builder");
  var box = document.getElementById("expression");
  if (!root || !box) return;
  var L = root.dataset;
  var rows = document.getElementById("builder-rows");
  var join = document.getElementById("builder-join");
  var out = document.getElementById("live-count");
  var err = document.getElementById("live-error");
  var schema = { attributes: [], tags: [] };

  var OPS = {
    text: ["=", "!=", "exists"],
    "enum": ["=", "!=", "exists"],
    integer: [">=", "<=", "=", "!=", ">", "<", "exists"],
    money: [">=", "<=", "=", "!=", ">", "<", "exists"],
    time: ["within", "before_ago", "after", "before", "exists"],
    "yes/no": ["is_true", "is_false"],
    tag: ["has"]
  };

  function quote(s) {
    return '"' + String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fieldOf(row) {
    var v = row.querySelector(".b-field").value;
    if (v.indexOf("tag:") === 0) return { kind: "tag", path: v.slice(4) };
    var a = schema.attributes.filter(function (x) { return x.name === v; })[0];
    return a ? { kind: a.kind, name: a.name, options: a.options, suggestions: a.suggestions || [] } : null;
  }

  function condition(row) {
    var f = fieldOf(row);
    if (!f) return "";
    var op = row.querySelector(".b-op").value;
    var valEl = row.querySelector(".b-value");
    var v = valEl ? valEl.value.trim() : "";
    var c = "";
    if (f.kind === "tag") c = "tag(" + quote(f.path) + ")";
    else if (op === "exists") c = "exists(" + f.name + ")";
    else if (op === "is_true") c = f.name;
    else if (op === "is_false") c = "not " + f.name;
    else if (f.kind === "text" || f.kind === "enum") { if (!v) return ""; c = f.name + " " + op + " " + quote(v); }
    else if (f.kind === "integer") { if (!/^-?\d+$/.test(v)) return ""; c = f.name + " " + op + " " + v; }
    else if (f.kind === "money") { if (!/^-?\d+(\.\d{1,2})?$/.test(v)) return ""; c = f.name + " " + op + " ¥" + v; }
    else if (f.kind === "time") {
      if (op === "within") { if (!/^\d+$/.test(v)) return ""; c = f.name + " within " + v + "d"; }
      else if (op === "before_ago") { if (!/^\d+$/.test(v)) return ""; c = f.name + " before " + v + "d ago"; }
      else { if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return ""; c = f.name + " " + op + " " + v; }
    }
    if (c && row.querySelector(".b-not").checked) c = "not (" + c + ")";
    return c;
  }

  // Text typed by hand that the rows cannot show ("" when the rows are the whole expression):
  // it is kept as it is, and conditions added in the builder are joined to it with `and`.
  var base = "";
  var misfit = document.getElementById("builder-misfit");
  var seq = 0;

  function flag(text) {
    misfit.textContent = text;
    misfit.hidden = !text;
  }

  function write() {
    seq++;
    var parts = Array.prototype.map.call(rows.children, condition).filter(Boolean);
    var j = join.value === "or" ? " or " : " and ";
    var built = parts.length > 1 && j === " or " ? parts.map(function (p) { return "(" + p + ")"; }).join(j) : parts.join(j);
    if (base) box.value = built ? "(" + base + ") and " + (parts.length > 1 ? "(" + built + ")" : built) : base;
    else box.value = built;
    refresh();
  }

  // Rows from the server's reading of the text (the real parser), or the reason they cannot
  // show it. Never writes the text.
  function analyse() {
    var q = box.value;
    var my = ++seq;
    if (!q.trim()) { base = ""; rows.innerHTML = ""; flag(""); return; }
    fetch("/console/segments/rows.json?expression=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (v) {
        if (my !== seq || box.value !== q) return;
        rows.innerHTML = "";
        if (v.fits) {
          base = "";
          join.value = v.join === "or" ? "or" : "and";
          v.rows.forEach(makeRow);
          flag("");
        } else {
          base = q;
          flag(L["misfit_" + v.misfit] || L.misfit_invalid);
        }
      })
      .catch(function () { if (my === seq) flag(L.failed); });
  }

  function valueInput(row) {
    var old = row.querySelector(".b-value");
    if (old) old.remove();
    var f = fieldOf(row);
    var op = row.querySelector(".b-op").value;
    if (!f || f.kind === "tag" || f.kind === "yes/no" || op === "exists") return;
    var input;
    if (f.kind === "enum") {
      input = el("select", { "class": "b-value" });
      // An option's label in the reader's language where the page has one (channel types).
      f.options.forEach(function (o) { input.appendChild(el("option", { value: o }, L["opt_" + f.name + "_" + o] || o)); });
    } else {
      var ph = { text: L.phText, integer: "2", money: "199.00", time: (op === "after" || op === "before") ? "2026-01-01" : "30" }[f.kind] || "";
      input = el("input", { "class": "b-value", placeholder: ph, size: "12" });
      // Values the server offers (channel names, staff usernames); any other text can be typed.
      if (f.kind === "text" && f.suggestions.length) {
        var listId = "b-values-" + f.name;
        if (!document.getElementById(listId)) {
          var dl = el("datalist", { id: listId });
          f.suggestions.forEach(function (v) { dl.appendChild(el("option", { value: v.value, label: v.label })); });
          root.appendChild(dl);
        }
        input.setAttribute("list", listId);
        input.removeAttribute("placeholder");
      }
    }
    input.addEventListener("input", write);
    input.addEventListener("change", write);
    row.querySelector(".b-not").parentNode.before(input);
  }

  function opSelect(row) {
    var sel = row.querySelector(".b-op");
    sel.innerHTML = "";
    var f = fieldOf(row);
    (OPS[f ? f.kind : "tag"] || []).forEach(function (o) {
      sel.appendChild(el("option", { value: o }, L["op_" + o] || o));
    });
    valueInput(row);
  }

  function makeRow(spec) {
    var row = el("div", { "class": "b-row" });
    var field = el("select", { "class": "b-field", "aria-label": L.field });
    var tg = el("optgroup", { label: L.tags });
    schema.tags.forEach(function (t) { tg.appendChild(el("option", { value: "tag:" + t.path }, t.path)); });
    var ag = el("optgroup", { label: L.attributes });
    schema.attributes.forEach(function (a) { ag.appendChild(el("option", { value: a.name }, (L["attr_" + a.name] || a.name))); });
    if (schema.tags.length) field.appendChild(tg);
    field.appendChild(ag);
    var op = el("select", { "class": "b-op", "aria-label": L.operator });
    var notLabel = el("label", { "class": "b-not-label" });
    var not = el("input", { type: "checkbox", "class": "b-not" });
    notLabel.appendChild(not);
    notLabel.appendChild(document.createTextNode(" " + L.not));
    var del = el("button", { type: "button", "class": "secondary b-del" }, "×");
    row.appendChild(field); row.appendChild(op); row.appendChild(notLabel); row.appendChild(del);
    rows.appendChild(row);
    field.addEventListener("change", function () { opSelect(row); write(); });
    op.addEventListener("change", function () { valueInput(row); write(); });
    not.addEventListener("change", write);
    del.addEventListener("click", function () { row.remove(); write(); });
    if (spec) field.value = spec.field;
    opSelect(row);
    if (spec) {
      op.value = spec.op;
      valueInput(row);
      var val = row.querySelector(".b-value");
      if (val) val.value = spec.value;
      not.checked = !!spec.not;
    }
    return row;
  }

  function addRow() {
    makeRow(null);
    write();
  }

  var timer = null;
  var saved = document.getElementById("save-expression");
  function refresh() {
    if (saved) saved.value = box.value;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = box.value.trim();
      if (!q) { out.textContent = "-"; err.textContent = ""; return; }
      fetch("/console/segments/count.json?expression=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (v) {
          if (v.error) {
            out.textContent = "-";
            err.textContent = L.errorAt.replace("{line}", v.line).replace("{column}", v.column) + v.error;
          } else if (v.count !== null && v.count !== undefined) {
            out.textContent = String(v.count);
            err.textContent = "";
          }
        })
        .catch(function () { err.textContent = L.failed; });
    }, 250);
  }

  var typed = null;
  box.addEventListener("input", function () {
    // Until the server has read the new text, it is the builder's base: nothing is lost if a
    // condition is added at once.
    seq++;
    base = box.value.trim() ? box.value : "";
    rows.innerHTML = "";
    refresh();
    clearTimeout(typed);
    typed = setTimeout(analyse, 250);
  });
  join.addEventListener("change", write);
  document.getElementById("builder-add").addEventListener("click", addRow);
  fetch("/console/segments/schema.json", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (s) { schema = s; root.hidden = false; analyse(); });
})();
