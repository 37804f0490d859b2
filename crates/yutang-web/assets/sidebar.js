// The chat sidebar (聊天工具栏): register WeCom's JS-SDK (the global `ww` of @wecom/jssdk,
// served by Yutang) with signatures from the server, find the chat the page sits beside and
// show the customer card or the group card. Every call goes to /console/sidebar/…, scoped by
// the guide's session; writes carry the session's CSRF token. Data is put in the page with
// textContent only.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("sidebar-texts").textContent);
  var CSRF = document.body.getAttribute("data-csrf");
  var LOCALE = T.lang === "en" ? "en-GB" : "zh-CN";
  function t(key) { return T[key] || key; }
  function $(id) { return document.getElementById(id); }
  function yuan(fen) { return "¥" + (fen / 100).toFixed(2); }
  function when(ms) {
    return new Date(ms).toLocaleString(LOCALE, { timeZone: "Asia/Shanghai", hour12: false,
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }
  function el(tag, props, kids) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") e.textContent = props[k];
      else if (k === "on") e.addEventListener("click", props[k]);
      else e.setAttribute(k, props[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function toast(text) {
    var m = $("toast");
    m.textContent = text;
    m.style.display = "block";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { m.style.display = "none"; }, 2500);
  }
  function status(text) {
    $("status").textContent = text;
    $("status").hidden = false;
  }
  function key() { return "sidebar-" + Date.now() + "-" + Math.random().toString(36).slice(2); }

  // JSON from the server; an error carries the server's message (or the sign-in notice when
  // the session ended and the console answered with its login page).
  function call(method, path, body, extra) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method === "POST") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = CSRF;
      Object.keys(extra || {}).forEach(function (k) { opts.headers[k] = extra[k]; });
      opts.body = JSON.stringify(body);
    }
    return fetch("/console/sidebar/" + path, opts).then(function (r) {
      var type = r.headers.get("content-type") || "";
      if (type.indexOf("application/json") < 0) {
        var e = new Error(t("signed_out"));
        e.status = 401;
        throw e;
      }
      return r.json().then(function (j) {
        if (!r.ok) {
          var err = new Error((j.error && j.error.message) || t("failed"));
          err.status = r.status;
          err.code = j.error && j.error.code;
          throw err;
        }
        return j;
      });
    });
  }

  var signatures = {};
  function signed(url) {
    var clean = url.split("#")[0];
    if (!signatures[clean]) signatures[clean] = call("GET", "jssdk.json?url=" + encodeURIComponent(clean));
    return signatures[clean];
  }
  function pick(s) { return { timestamp: s.timestamp, nonceStr: s.nonce_str, signature: s.signature }; }

  var current = { external: null, customer: null };

  function section(title, kids) {
    return el("div", { "class": "card" }, [el("h2", { text: title })].concat(kids));
  }
  function list(items, empty, render) {
    if (!items.length) return el("div", { "class": "muted", text: empty });
    return el("ul", {}, items.map(function (x) { return el("li", {}, render(x)); }));
  }
  function taskItems(tasks) {
    return list(tasks, t("no_tasks"), function (k) {
      return [el("div", { text: k.title }),
        el("div", { "class": k.overdue ? "muted overdue" : "muted", text: t("due") + " " + when(k.due_at) })];
    });
  }

  function renderContact(c) {
    var box = $("contact");
    box.textContent = "";
    var cu = c.customer;
    current.customer = cu.id;
    var owner = c.guides.filter(function (g) { return g.is_owner; })[0];
    var head = el("div", { "class": "card", id: "contact-head", "data-customer": String(cu.id) }, [
      el("div", { "class": "name", id: "contact-name", text: cu.name || ("#" + cu.id) }),
      el("div", { "class": "muted", text: [cu.phone || "", cu.city || "", cu.member_level || ""].filter(Boolean).join(" · ") }),
      el("div", { "class": "stat" }, [
        el("div", {}, [el("b", { id: "stat-spend", text: yuan(cu.total_spend) }), el("span", { "class": "muted", text: t("spend") })]),
        el("div", {}, [el("b", { text: String(cu.order_count) }), el("span", { "class": "muted", text: t("order_count") })]),
        el("div", {}, [el("b", { id: "stat-points", text: String(c.points_balance) }), el("span", { "class": "muted", text: t("points") })]),
      ]),
      c.tier && c.tier.tier ? el("div", { "class": "muted", id: "tier", text: t("tier") + "：" + c.tier.tier.name }) : null,
      el("div", { "class": "muted", id: "owner", text: t("owner") + "：" + (owner ? owner.staff_name : "—") +
        (c.guides.length > 1 ? " · " + t("guides") + "：" + c.guides.map(function (g) { return g.staff_name; }).join("、") : "") }),
      el("a", { href: "/console/customers/" + cu.id, target: "_blank", "class": "muted", text: t("open_profile") }),
    ]);
    box.appendChild(head);
    // Due tasks first (what the guide came to do), then who the customer is.
    box.appendChild(section(t("tasks"), [taskItems(c.tasks)]));
    box.appendChild(tagsCard(c));
    box.appendChild(section(t("orders"), [list(c.orders, t("no_orders"), function (o) {
      return [el("div", { "class": "row" }, [el("span", { text: when(o.paid_at) + " · " + (o.store_name || o.channel) }), el("b", { text: yuan(o.amount) })])];
    })]));
    box.appendChild(couponsCard(c));
    box.appendChild(notesCard(c));
    box.appendChild(section(t("touches"), [list(c.touches, "—", function (e) {
      return [el("span", { text: when(e.occurred_at) + " " + (e.kind_label || e.kind) })];
    })]));
    box.hidden = false;
  }

  function tagsCard(c) {
    var chips = el("div", { "class": "chips", id: "tag-chips" }, c.tags.map(function (g) { return el("span", { text: g.name }); }));
    var kids = [chips];
    if (c.can.tag) {
      var editor = el("div", { id: "tag-editor", hidden: "hidden" });
      var edit = el("button", { "class": "secondary", id: "edit-tags", type: "button", text: t("edit_tags"), on: function () {
        call("GET", "tags.json").then(function (groups) {
          editor.textContent = "";
          var have = {};
          c.tags.forEach(function (x) { have[x.tag_id] = true; });
          groups.forEach(function (g) {
            var manual = g.rule_id ? [] : g.tags;
            if (!manual.length) return;
            editor.appendChild(el("div", { "class": "muted", text: g.name }));
            editor.appendChild(el("div", { "class": "chips" }, manual.map(function (tag) {
              var box = el("input", { type: "checkbox", value: String(tag.id), "data-tag": String(tag.id) });
              box.checked = !!have[tag.id];
              return el("label", {}, [box, document.createTextNode(" " + tag.name)]);
            })));
          });
          editor.appendChild(el("button", { id: "save-tags", type: "button", text: t("save_tags"), on: function () {
            var add = [], remove = [];
            editor.querySelectorAll("input[data-tag]").forEach(function (b) {
              var id = Number(b.value);
              if (b.checked && !have[id]) add.push(id);
              if (!b.checked && have[id]) remove.push(id);
            });
            call("POST", "tags.json", { customer_id: c.customer.id, add: add, remove: remove }).then(function (tags) {
              c.tags = tags;
              chips.textContent = "";
              tags.forEach(function (g) { chips.appendChild(el("span", { text: g.name })); });
              editor.hidden = true;
              toast(t("tags_saved"));
            }).catch(function (e) { toast(e.message); });
          } }));
          editor.hidden = false;
        }).catch(function (e) { toast(e.message); });
      } });
      kids.push(edit, editor);
    }
    return section(t("tags"), kids);
  }

  function couponsCard(c) {
    var items = el("div", { id: "coupon-list" }, [list(c.coupons, t("no_coupons"), function (k) {
      return [el("span", { text: k.row.template_name })];
    })]);
    var kids = [items];
    if (c.can.coupon) {
      var pickBox = el("select", { id: "coupon-template", "aria-label": t("choose_template") }, [el("option", { value: "", text: t("choose_template") })]);
      var give = el("button", { id: "give-coupon", type: "button", text: t("give_coupon"), on: function () {
        if (!pickBox.value) { toast(t("choose_template")); return; }
        give.disabled = true;
        call("POST", "coupon.json", { external_userid: current.external, template_id: Number(pickBox.value) }, { "Idempotency-Key": key() })
          .then(function () { toast(t("coupon_given")); return loadContact(current.external); })
          .catch(function (e) { toast(e.message); })
          .then(function () { give.disabled = false; });
      } });
      call("GET", "coupon-templates.json").then(function (ts) {
        ts.forEach(function (x) { pickBox.appendChild(el("option", { value: String(x.id), text: x.name })); });
      }).catch(function () { /* the list stays empty */ });
      kids.push(el("div", { "class": "row" }, [pickBox, give]));
    }
    return section(t("coupons"), kids);
  }

  function notesCard(c) {
    var items = el("div", { id: "note-list" }, [list(c.notes, t("no_notes"), function (n) {
      return [el("div", { text: n.body }), el("div", { "class": "muted", text: n.staff_name + " · " + when(n.created_at) })];
    })]);
    var kids = [items];
    if (c.can.note) {
      var text = el("textarea", { id: "note-body", maxlength: "500", placeholder: t("note_placeholder"), "aria-label": t("add_note") });
      var add = el("button", { id: "add-note", type: "button", text: t("add_note"), on: function () {
        if (!text.value.trim()) return;
        add.disabled = true;
        call("POST", "note.json", { customer_id: c.customer.id, body: text.value })
          .then(function () { text.value = ""; toast(t("note_added")); return loadContact(current.external); })
          .catch(function (e) { toast(e.message); })
          .then(function () { add.disabled = false; });
      } });
      kids.push(text, el("div", { "class": "row" }, [el("span"), add]));
    }
    return section(t("notes"), kids);
  }

  function renderGroup(g) {
    var box = $("group");
    box.textContent = "";
    box.appendChild(el("div", { "class": "card", id: "group-head", "data-group": String(g.id) }, [
      el("div", { "class": "name", id: "group-name", text: g.name || g.chat_id }),
      el("div", { "class": "muted", text: t("owner") + "：" + (g.owner_name || "—") }),
      el("div", { "class": "stat" }, [
        el("div", {}, [el("b", { id: "group-members", text: String(g.members) }), el("span", { "class": "muted", text: t("members") })]),
        el("div", {}, [el("b", { id: "group-customers", text: String(g.customers) }), el("span", { "class": "muted", text: t("customers") })]),
        el("div", {}, [el("b", { id: "group-mine", text: String(g.my_customers) }), el("span", { "class": "muted", text: t("my_customers") })]),
      ]),
    ]));
    box.appendChild(section(t("tasks"), [taskItems(g.tasks)]));
    box.appendChild(section(t("members"), [list(g.member_list, "—", function (m) {
      var label = m.name || t(m.kind === "customer" ? "customers" : m.kind);
      var name = m.customer_id ? el("a", { href: "/console/customers/" + m.customer_id, target: "_blank", text: label }) : el("span", { text: label });
      return [el("div", { "class": "row", "data-member": m.kind }, [name, el("span", { "class": "muted", text: when(m.join_time) })])];
    })]));
    box.hidden = false;
  }

  function loadContact(external) {
    current.external = external;
    return call("GET", "contact.json?external_userid=" + encodeURIComponent(external)).then(function (c) {
      $("status").hidden = true;
      renderContact(c);
      loadMaterials("");
    }).catch(function (e) { status(e.status === 404 ? t("not_found") : e.message); });
  }

  function loadGroup(chatId) {
    current.external = null;
    return call("GET", "group.json?chat_id=" + encodeURIComponent(chatId)).then(function (g) {
      $("status").hidden = true;
      renderGroup(g);
      loadMaterials("");
    }).catch(function (e) { status(e.status === 404 ? t("not_found") : e.message); });
  }

  function loadMaterials(q) {
    return call("GET", "materials.json?q=" + encodeURIComponent(q)).then(function (items) {
      var ul = $("material-list");
      ul.textContent = "";
      items.forEach(function (m) {
        var send = el("button", { type: "button", "data-material": String(m.id), text: t("send"), on: function () {
          send.disabled = true;
          call("POST", "message.json", { material_id: m.id, external_userid: current.external })
            .then(function (out) { return ww.sendChatMessage(out.message); })
            .then(function () { toast(t("sent")); })
            .catch(function (e) { toast(e.message || e.errMsg || t("failed")); })
            .then(function () { send.disabled = false; });
        } });
        ul.appendChild(el("li", {}, [el("div", { "class": "row" }, [
          el("span", {}, [el("div", { text: m.title }), el("div", { "class": "muted", text: m.kind === "text" ? m.body.slice(0, 40) : (m.kind_label || m.kind) })]),
          send,
        ])]));
      });
      $("materials").hidden = false;
    }).catch(function (e) { toast(e.message); });
  }

  var searchTimer;
  $("material-q").addEventListener("input", function (e) {
    clearTimeout(searchTimer);
    var q = e.target.value.trim();
    searchTimer = setTimeout(function () { loadMaterials(q); }, 250);
  });

  if (typeof ww === "undefined") { status(t("not_in_wecom")); return; }
  signed(location.href).then(function (cfg) {
    ww.register({
      corpId: cfg.corp_id,
      agentId: cfg.agent_id,
      jsApiList: cfg.js_api_list,
      getConfigSignature: function (url) { return signed(url).then(function (c) { return pick(c.config); }); },
      getAgentConfigSignature: function (url) { return signed(url).then(function (c) { return pick(c.agent_config); }); },
    });
    return ww.getContext();
  }).then(function (ctx) {
    var entry = ctx && ctx.entry;
    if (entry === "single_chat_tools" || entry === "contact_profile") {
      return ww.getCurExternalContact().then(function (r) { return loadContact(r.userId); });
    }
    if (entry === "group_chat_tools") {
      return ww.getCurExternalChat().then(function (r) { return loadGroup(r.chatId); });
    }
    status(t("no_context"));
  }).catch(function (e) {
    if (e && e.code === "wecom_not_configured") { status(t("not_configured")); return; }
    if (e && e.status) { status(e.message); return; }
    var msg = e && (e.errMsg || e.message) || "";
    status(/permission|signature|config/i.test(msg) ? t("sdk_failed") : t("not_in_wecom"));
  });
})();
