// Yutang H5 pages: call the public API with a customer token (yct_…).
// The token comes from ?token= (a mini-program web-view passes it) and is kept in
// localStorage; in the demo, a customer id can be exchanged for one.
(function () {
  "use strict";
  var body = document.body;
  var page = body.getAttribute("data-page");
  var id = body.getAttribute("data-id");
  var demo = body.getAttribute("data-demo") === "1";
  var KEY = "yutang_customer_token";
  // The texts in the reader's language (zh by default, en with ?lang=en), from the server.
  var T = JSON.parse(document.getElementById("h5-texts").textContent);
  function t(key, values) {
    var text = T[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  var LOCALE = T.lang === "en" ? "en-GB" : "zh-CN";

  var qs = new URLSearchParams(location.search);
  if (qs.get("token")) {
    localStorage.setItem(KEY, qs.get("token"));
  }
  function token() { return localStorage.getItem(KEY); }
  function $(s) { return document.getElementById(s); }
  function yuan(fen) { return (fen / 100).toFixed(2); }
  function when(ms) {
    return new Date(ms).toLocaleString(LOCALE, { timeZone: "Asia/Shanghai", hour12: false });
  }
  function toast(text) {
    var m = $("msg");
    m.textContent = text;
    m.style.display = "block";
    clearTimeout(toast.t);
    toast.t = setTimeout(function () { m.style.display = "none"; }, 2500);
  }
  function key() { return page + "-" + id + "-" + Date.now() + "-" + Math.random().toString(36).slice(2); }

  function api(method, path, data) {
    var headers = { "Authorization": "Bearer " + token() };
    var opts = { method: method, headers: headers };
    if (method === "POST") {
      headers["Content-Type"] = "application/json";
      headers["Idempotency-Key"] = key();
      opts.body = JSON.stringify(data || {});
    }
    return fetch("/api/v1" + path, opts).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) {
          var code = j && j.error ? j.error.code : "error";
          var e = new Error(T[code] || (j.error && j.error.message) || t("request_failed"));
          if (r.status === 401) { e.unauthorized = true; localStorage.removeItem(KEY); signIn(e.message); }
          e.code = code;
          throw e;
        }
        return j;
      });
    });
  }

  // A page that needs a token and has none (or a refused one): say so where the content
  // would be, and show the sign-in card at the top of the page.
  function signIn(reason) {
    var loading = document.querySelectorAll(".loading");
    for (var i = 0; i < loading.length; i++) {
      loading[i].textContent = reason;
      loading[i].className = "signin";
    }
    $("login-reason").textContent = reason;
    var main = document.querySelector("main");
    if (main) { main.insertBefore($("login"), main.firstChild); }
    showLogin();
  }

  function showLogin() {
    $("login").style.display = "block";
    var btn = $("login-btn");
    if (!btn) { return; }
    btn.onclick = function () {
      var c = parseInt($("login-customer").value, 10);
      fetch("/api/v1/public/demo-login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(isNaN(c) ? {} : { customer_id: c })
      }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (x) {
          if (!x[0]) { toast(t("login_failed")); return; }
          localStorage.setItem(KEY, x[1].token);
          // Reload without a ?token= that was refused (it would be stored again).
          var q = new URLSearchParams(location.search);
          q.delete("token");
          var rest = q.toString();
          location.replace(location.pathname + (rest ? "?" + rest : ""));
        });
    };
  }

  function benefit(b) {
    if (!b) { return ""; }
    switch (b.kind) {
      case "amount_off": return b.threshold_fen
        ? t("amount_off_over", { t: yuan(b.threshold_fen), o: yuan(b.off_fen) })
        : t("amount_off", { o: yuan(b.off_fen) });
      case "discount": return t("discount", {
        r: b.rate_permille / 100, p: (1000 - b.rate_permille) / 10, c: yuan(b.cap_fen) });
      case "free_shipping": return b.threshold_fen
        ? t("free_shipping_over", { t: yuan(b.threshold_fen) }) : t("free_shipping");
      case "exchange": return t("exchange", { i: b.item_name });
      default: return "";
    }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  /** Each refresh of the coupon lists gets a number; a reply to an older refresh is dropped,
   *  so a slow first load cannot overwrite the list a claim just refreshed. */
  var couponsSeq = 0;

  function coupons() {
    var seq = ++couponsSeq;
    api("GET", "/public/coupons").then(function (list) {
      if (seq !== couponsSeq) { return; }
      var box = $("claimable");
      box.textContent = "";
      // A poster's link (?template=ID) puts its coupon first, highlighted; if it cannot be
      // claimed, the first load says so above the others.
      var featured = qs.get("template");
      var found = list.filter(function (tpl) { return String(tpl.id) === featured; });
      if (found.length) {
        list = found.concat(list.filter(function (tpl) { return String(tpl.id) !== featured; }));
      } else if (featured && seq === 1) {
        box.appendChild(el("p", "signin template-gone", t("template_gone")));
      }
      if (!list.length) { box.appendChild(el("p", "muted", t("none_claimable"))); }
      list.forEach(function (tpl) {
        var card = el("div", "card coupon-template" + (String(tpl.id) === featured ? " featured" : ""));
        card.setAttribute("data-template", tpl.id);
        var row = el("div", "row");
        var left = el("div");
        left.appendChild(el("div", null, tpl.name));
        left.appendChild(el("div", "muted", tpl.spec.steps.map(benefit).join(" / ") + " · " + t("left", { n: tpl.remaining })));
        var btn = el("button", "claim", t("claim"));
        btn.type = "button";
        btn.onclick = function () {
          btn.disabled = true;
          api("POST", "/public/coupons/" + tpl.id + "/claim").then(function () {
            toast(t("claimed_ok"));
            coupons();
          }).catch(function (e) { toast(e.message); btn.disabled = false; });
        };
        row.appendChild(left);
        row.appendChild(btn);
        card.appendChild(row);
        box.appendChild(card);
      });
    }).catch(function (e) { if (!e.unauthorized) { $("claimable").textContent = e.message; } });
    api("GET", "/public/coupons/mine").then(function (list) {
      if (seq !== couponsSeq) { return; }
      var box = $("mine");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", t("no_coupons"))); }
      list.forEach(function (c) {
        var card = el("div", "card my-coupon state-" + c.state);
        card.setAttribute("data-coupon", c.id);
        var row = el("div", "row");
        var left = el("div");
        left.appendChild(el("div", null, c.name + " · " + benefit(c.benefit)));
        left.appendChild(el("div", "muted", t("valid_until", { t: when(c.valid_until) })));
        row.appendChild(left);
        row.appendChild(el("span", "tag coupon-state", T["state_" + c.state] || c.state));
        card.appendChild(row);
        box.appendChild(card);
      });
    }).catch(function (e) { if (!e.unauthorized) { $("mine").textContent = e.message; } });
  }

  /** "HH:MM:SS" for a span in milliseconds (days shown as hours). */
  // A countdown: "HH:MM:SS" under a day, "3天 04:05:06" from a day on.
  function hms(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    function p(n) { return (n < 10 ? "0" : "") + n; }
    var clock = p(Math.floor(s % 86400 / 3600)) + ":" + p(Math.floor(s % 3600 / 60)) + ":" + p(s % 60);
    var d = Math.floor(s / 86400);
    return d > 0 ? t("days", { d: String(d), t: clock }) : clock;
  }

  function flashSale() {
    var w = $("window");
    var starts = +w.getAttribute("data-starts"), ends = +w.getAttribute("data-ends");
    var holdUntil = 0, claimId = 0;
    w.textContent = t("window", { a: when(starts), b: when(ends) });
    // The sale's clock (to its start, then to its end) and, after a win, the hold's.
    function tick() {
      var now = Date.now(), c = $("clock");
      if (now < starts) {
        c.textContent = t("starts_in", { t: hms(starts - now) });
        c.setAttribute("data-phase", "before");
      } else if (now < ends) {
        c.textContent = t("ends_in", { t: hms(ends - now) });
        c.setAttribute("data-phase", "open");
      } else {
        c.textContent = t("ended");
        c.setAttribute("data-phase", "ended");
      }
      if (!holdUntil) { $("claim").disabled = now < starts || now >= ends || $("claim").getAttribute("data-won") === "1"; }
      if (holdUntil) {
        var left = holdUntil - now;
        $("hold").textContent = left > 0 ? t("pay_within", { t: hms(left) }) : t("hold_over");
        $("pay").hidden = !(left > 0 && $("pay").getAttribute("href"));
      }
    }
    function refresh() {
      api("GET", "/public/flash-sales/" + id).then(function (s) { $("remaining").textContent = s.remaining; });
    }
    refresh();
    tick();
    setInterval(tick, 1000);
    $("claim").onclick = function () {
      var b = $("claim");
      b.disabled = true;
      api("POST", "/public/flash-sales/" + id + "/claim").then(function (c) {
        $("result").textContent = t("flash_won", { t: when(c.hold_until) });
        holdUntil = c.hold_until;
        claimId = c.claim_id;
        b.setAttribute("data-won", "1");
        var url = $("pay").getAttribute("data-url");
        if (url) { $("pay").setAttribute("href", url.split("{claim_id}").join(String(claimId))); }
        tick();
        refresh();
      }).catch(function (e) { toast(e.message); b.disabled = false; refresh(); });
    };
  }

  function groupBuy() {
    api("GET", "/public/group-buys/" + id).then(function (g) { $("remaining").textContent = g.remaining; });
    $("open").onclick = function () {
      $("open").disabled = true;
      api("POST", "/public/group-buys/" + id + "/open").then(function (team) {
        location.href = "/h5/teams/" + team.team_id + (T.lang === "en" ? "?lang=en" : "");
      }).catch(function (e) { toast(e.message); $("open").disabled = false; });
    };
  }

  function team() {
    var inviter = +$("team").getAttribute("data-inviter") || null;
    var deadline = 0;
    var state = "";
    function tick() {
      var left = Math.max(0, deadline - Date.now());
      var s = Math.floor(left / 1000);
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      function p(n) { return (n < 10 ? "0" : "") + n; }
      $("countdown").textContent = state === "open" ? p(h) + ":" + p(m) + ":" + p(sec) : "--:--:--";
    }
    function load() {
      return api("GET", "/public/group-buy-teams/" + id).then(function (tm) {
        deadline = tm.deadline;
        state = tm.state;
        var text = tm.state === "open" ? t("team_missing", { n: tm.missing })
          : tm.state === "filled" ? t("team_filled") : t("team_failed");
        $("team-state").textContent = text;
        $("team-state").className = "muted";
        $("team-state").setAttribute("data-state", tm.state);
        $("remaining").textContent = tm.remaining_stock;
        var av = $("avatars");
        av.textContent = "";
        for (var i = 0; i < tm.size; i++) {
          var m = tm.member_list[i];
          av.appendChild(el("span", m ? "" : "empty", m ? (m.is_leader ? t("leader") : t("member")) : "?"));
        }
        var me = token() ? token().split(".")[0].replace("yct_", "") : "";
        var myRow = tm.member_list.filter(function (m) { return String(m.customer_id) === me; })[0];
        var mine = !!myRow;
        // A member (the leader above all) is not "invited" to their own team.
        if (mine) { $("team-lead").textContent = myRow.is_leader ? t("team_yours") : t("team_in"); }
        $("join").disabled = tm.state !== "open" || mine;
        $("join").textContent = mine ? t("joined") : t("join");
        if (mine && tm.state === "open") {
          $("share").textContent = t("share", { u: location.origin + "/h5/teams/" + id + "?inviter=" + me });
        } else {
          $("share").textContent = "";
        }
        tick();
      });
    }
    load().catch(function (e) { if (!e.unauthorized) { $("team-state").textContent = e.message; } });
    setInterval(tick, 1000);
    setInterval(function () { load().catch(function () {}); }, 5000);
    $("join").onclick = function () {
      $("join").disabled = true;
      api("POST", "/public/group-buy-teams/" + id + "/join", inviter ? { inviter_id: inviter } : {})
        .then(function (r) { toast(r.state === "filled" ? t("team_filled") : t("join_ok")); return load(); })
        .catch(function (e) { toast(e.message); load(); });
    };
  }

  // The invite page works without a token (the friend may have none): only accepting the
  // invite needs one. With a token, 接受邀请 binds the friend (or says why not).
  function invite() {
    var box = $("invite");
    var accept = $("accept");
    if (!accept) { return; }
    if (!token()) {
      if (demo) {
        $("login-reason").textContent = box.getAttribute("data-login");
        document.querySelector("main").appendChild($("login"));
        showLogin();
      }
      return;
    }
    $("accept-box").hidden = false;
    accept.onclick = function () {
      accept.disabled = true;
      api("POST", "/public/invites/" + box.getAttribute("data-code") + "/accept").then(function (o) {
        var r = $("accept-result");
        r.setAttribute("data-status", o.status);
        r.setAttribute("data-reason", o.reason || "");
        r.textContent = o.reason
          ? t("invite_refused", { r: T["reason_" + o.reason] || o.reason })
          : (T["invite_" + o.status] || o.status);
      }).catch(function (e) { toast(e.message); accept.disabled = false; });
    };
  }

  // The member centre: the balance, the points expiring soonest, the history with sources.
  // With ?token= the server filled the first page; the script loads older pages (and all
  // of it when the page came without a token).
  function lastDay(ms) {
    return new Date(ms - 1).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  }
  function historyLine(e) {
    var credit = e.credit === "customer";
    var row = el("div", "row history-line");
    row.setAttribute("data-entry", e.id);
    row.setAttribute("data-kind", e.kind);
    var left = el("span");
    left.appendChild(el("span", "", T["pkind_" + e.kind] || e.kind));
    left.appendChild(el("br"));
    var source = e.source_type ? (T["psource_" + e.source_type] || e.source_type) + " · " : "";
    left.appendChild(el("span", "muted", source + when(e.created_at)));
    row.appendChild(left);
    row.appendChild(el("span", credit ? "gain" : "spend", (credit ? "+" : "-") + e.amount));
    return row;
  }
  // The tier block: filled by the server with ?token=, else from /public/me/tier; hidden
  // when the brand runs no tier programme.
  function times(permille) { return String(permille / 1000); }
  function tierBlock() {
    var box = $("member-tier");
    if (box.getAttribute("data-loaded") === "1") { return; }
    api("GET", "/public/me/tier").then(function (v) {
      if (!v.tier && !v.next) { return; }
      $("tier-name").textContent = v.tier ? v.tier.name : t("member_tier_none");
      box.setAttribute("data-member", v.tier ? "true" : "false");
      $("tier-held").textContent = v.tier_since !== null && v.held_until !== null
        ? t("member_tier_held", { d: lastDay(v.tier_since + 1), u: lastDay(v.held_until) }) : "";
      var benefits = $("tier-benefits");
      benefits.textContent = "";
      if (v.tier) {
        if (v.tier.discount_percent > 0) {
          benefits.appendChild(el("span", "tag", t("member_tier_discount", { v: v.tier.discount_percent })));
        }
        if (v.tier.points_multiplier !== 1000) {
          benefits.appendChild(el("span", "tag", t("member_tier_multiplier", { v: times(v.tier.points_multiplier) })));
        }
        if (v.tier.free_shipping_threshold_fen !== null) {
          benefits.appendChild(el("span", "tag", t("member_tier_free_shipping", { v: yuan(v.tier.free_shipping_threshold_fen) })));
        }
      }
      var n = v.next;
      box.querySelector(".bar i").style.width = (n ? n.percent : 100) + "%";
      $("tier-next").textContent = n && n.remaining === 0 ? t("member_tier_next_order", { n: n.name })
        : n ? t("member_tier_next_" + v.metric, { v: v.metric === "spend_12m" ? yuan(n.remaining) : n.remaining, n: n.name })
        : t("member_tier_top");
      box.setAttribute("data-loaded", "1");
      box.hidden = false;
    }).catch(function (e) { if (!e.unauthorized) { toast(e.message); } });
  }
  // The paid member card: active (until when, the savings of this period against its price,
  // the guarantee), expired (when it ended), or none.
  function cardBlock() {
    api("GET", "/public/me/card").then(function (c) {
      var box = $("member-card");
      var body = $("card-body");
      var badge = $("card-status");
      body.textContent = "";
      var status = c.active ? "active" : c.periods.length ? "expired" : "none";
      box.setAttribute("data-status", status);
      badge.textContent = t("member_card_" + status);
      badge.className = "tag" + (c.active ? " active" : "");
      badge.hidden = false;
      if (status === "none") {
        body.appendChild(el("p", "muted", t("member_card_no_card")));
      } else {
        var p = c.current || c.periods[0];
        var row = el("div", "row");
        row.appendChild(el("span", "big", p.card_name));
        var until = c.active && c.expires_at !== null
          ? t("member_card_until", { d: lastDay(c.expires_at) })
          : t("member_card_ended", { d: lastDay(p.ends_at) });
        var u = el("span", "muted", until);
        u.id = "card-until";
        row.appendChild(u);
        body.appendChild(row);
        if (c.active) {
          var s = el("div", "", t("member_card_savings", { s: yuan(c.savings_fen), p: yuan(c.paid_fen) }));
          s.id = "card-savings";
          body.appendChild(s);
          var pct = c.paid_fen > 0 ? Math.min(100, Math.floor(c.savings_fen * 100 / c.paid_fen)) : 100;
          var bar = el("div", "bar");
          var fill = el("i");
          fill.style.width = pct + "%";
          bar.appendChild(fill);
          body.appendChild(bar);
          if (p.savings_guarantee === 1) {
            var g = el("div", "muted", t("member_card_guarantee"));
            g.id = "card-guarantee";
            body.appendChild(g);
          }
        }
      }
      box.setAttribute("data-loaded", "1");
    }).catch(function (e) { if (!e.unauthorized) { $("card-body").textContent = e.message; } });
  }

  // The stored-value balance (filled by the server with ?token=) and its latest entries.
  function storedValueBlock() {
    var box = $("member-stored-value");
    if (box.getAttribute("data-loaded") !== "1") {
      api("GET", "/public/me/stored-value").then(function (a) {
        $("sv-balance").textContent = "¥" + yuan(a.balance_fen);
        $("sv-split").textContent = t("member_sv_split", { p: yuan(a.principal_fen), g: yuan(a.gift_fen) });
        box.setAttribute("data-loaded", "1");
      }).catch(function (e) { if (!e.unauthorized) { $("sv-balance").textContent = e.message; } });
    }
    api("GET", "/public/me/stored-value/entries?limit=5").then(function (p) {
      var list = $("sv-entries");
      list.textContent = "";
      if (!p.items.length) { list.appendChild(el("p", "muted", t("member_sv_no_entries"))); }
      p.items.forEach(function (e) {
        var credit = e.credit === "customer";
        var row = el("div", "row sv-entry");
        row.setAttribute("data-entry", e.id);
        row.setAttribute("data-kind", e.kind);
        var left = el("span");
        left.appendChild(el("span", "", T["svkind_" + e.kind] || e.kind));
        left.appendChild(el("br"));
        left.appendChild(el("span", "muted", when(e.created_at)));
        row.appendChild(left);
        row.appendChild(el("span", credit ? "gain" : "spend", (credit ? "+" : "-") + "¥" + yuan(e.amount)));
        list.appendChild(row);
      });
      list.setAttribute("data-loaded", "1");
    }).catch(function (e) { if (!e.unauthorized) { $("sv-entries").textContent = e.message; } });
  }

  // The member gifts received (birthday, anniversary): what each gave and when.
  function giftsBlock() {
    api("GET", "/public/me/gifts").then(function (list) {
      var box = $("member-gifts");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", t("member_gifts_none"))); }
      list.forEach(function (g) {
        var what = [];
        if (g.coupon_name) { what.push(t("member_gift_coupon", { n: g.coupon_name })); }
        if (g.points > 0) { what.push(t("member_gift_points", { n: g.points })); }
        if (g.gift_fen > 0) { what.push(t("member_gift_fen", { v: yuan(g.gift_fen) })); }
        var row = el("div", "row gift-line");
        row.setAttribute("data-gift", g.id);
        row.setAttribute("data-kind", g.kind);
        var left = el("span");
        left.appendChild(el("span", "", (T["gkind_" + g.kind] || g.kind) + " · " + g.name));
        left.appendChild(el("br"));
        left.appendChild(el("span", "muted gift-what", what.join(" · ")));
        row.appendChild(left);
        row.appendChild(el("span", "muted", t("member_gift_year", { y: g.year }) + " · " + lastDay(g.created_at + 1)));
        box.appendChild(row);
      });
      box.setAttribute("data-loaded", "1");
    }).catch(function (e) { if (!e.unauthorized) { $("member-gifts").textContent = e.message; } });
  }

  // The points mall: the items on sale, each with its exchange button, and my exchanges with
  // a cancel button while the API allows one (awaiting payment, or pending before shipping).
  // An exchange or a cancel refreshes the balance, the history, the stock and my exchanges.
  var mallSeq = 0;
  function mallBlock(afterChange) {
    var seq = ++mallSeq;
    api("GET", "/public/mall/items").then(function (items) {
      if (seq !== mallSeq) { return; }
      var box = $("mall-items");
      box.textContent = "";
      if (!items.length) { box.appendChild(el("p", "muted", t("member_mall_none"))); }
      items.forEach(function (it) {
        var card = el("div", "card mall-item");
        card.setAttribute("data-item", it.id);
        card.setAttribute("data-stock", it.stock);
        var row = el("div", "row");
        var left = el("div");
        left.appendChild(el("div", "", it.name));
        var price = t("member_mall_points", { p: it.points_price })
          + (it.cash_price_fen > 0 ? " " + t("member_mall_cash", { c: yuan(it.cash_price_fen) }) : "");
        left.appendChild(el("div", "gain mall-price", price));
        var stock = t("member_mall_stock", { n: it.stock })
          + (it.per_customer_limit !== null ? " · " + t("member_mall_limit", { n: it.per_customer_limit }) : "");
        left.appendChild(el("div", "muted mall-stock", stock));
        var btn = el("button", "exchange", it.stock > 0 ? t("member_mall_exchange") : t("out_of_stock"));
        btn.type = "button";
        btn.disabled = it.stock <= 0;
        btn.onclick = function () {
          btn.disabled = true;
          api("POST", "/public/me/mall/exchanges", { item_id: it.id }).then(function () {
            toast(t("member_mall_exchanged"));
            afterChange();
          }).catch(function (e) { toast(e.message); btn.disabled = false; });
        };
        row.appendChild(left);
        row.appendChild(btn);
        card.appendChild(row);
        box.appendChild(card);
      });
      box.setAttribute("data-loaded", "1");
      return api("GET", "/public/me/mall/exchanges");
    }).then(function (list) {
      if (!list || seq !== mallSeq) { return; }
      var box = $("mall-exchanges");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", t("member_mall_no_exchanges"))); }
      list.forEach(function (x) {
        var row = el("div", "row my-exchange state-" + x.state);
        row.setAttribute("data-exchange", x.id);
        row.setAttribute("data-state", x.state);
        var left = el("span");
        left.appendChild(el("span", "", x.item_name));
        left.appendChild(el("br"));
        var detail = "-" + x.points + (x.cash_fen > 0 ? " · ¥" + yuan(x.cash_fen) : "") + " · " + when(x.created_at);
        if (x.state === "awaiting_payment" && x.pay_by !== null) {
          detail += " · " + t("member_mall_pay_by", { t: when(x.pay_by) });
        }
        left.appendChild(el("span", "muted", detail));
        row.appendChild(left);
        var right = el("span");
        right.appendChild(el("span", "tag exchange-state", T["mstate_" + x.state] || x.state));
        if (x.state === "awaiting_payment" || x.state === "pending") {
          var cancel = el("button", "cancel-exchange", t("member_mall_cancel"));
          cancel.type = "button";
          cancel.style.marginLeft = "6px";
          cancel.onclick = function () {
            cancel.disabled = true;
            api("POST", "/public/me/mall/exchanges/" + x.id + "/cancel").then(function () {
              toast(t("member_mall_cancelled"));
              afterChange();
            }).catch(function (e) { toast(e.message); cancel.disabled = false; });
          };
          right.appendChild(cancel);
        }
        row.appendChild(right);
        box.appendChild(row);
      });
      box.setAttribute("data-loaded", "1");
    }).catch(function (e) { if (!e.unauthorized) { $("mall-items").textContent = e.message; } });
  }

  function member() {
    var more = $("points-more");
    function entries(before, clear) {
      var q = "?limit=20" + (before ? "&before=" + before : "");
      return api("GET", "/public/me/points/entries" + q).then(function (p) {
        var box = $("points-history");
        if (clear) { box.textContent = ""; }
        if (clear && !p.items.length) { box.appendChild(el("p", "muted", t("member_no_history"))); }
        p.items.forEach(function (e) { box.appendChild(historyLine(e)); });
        if (p.next_before) {
          more.setAttribute("data-before", p.next_before);
          more.hidden = false;
        } else {
          more.hidden = true;
        }
      });
    }
    more.onclick = function () {
      more.disabled = true;
      entries(more.getAttribute("data-before"), false)
        .catch(function (e) { toast(e.message); })
        .then(function () { more.disabled = false; });
    };
    // The balance, the lots expiring soonest and the first page of the history.
    function points() {
      return api("GET", "/public/me/points").then(function (a) {
        var b = $("points-balance");
        b.textContent = a.balance;
        b.setAttribute("data-loaded", "1");
        $("points-worth").textContent = t("member_worth", { v: yuan(a.value_fen) });
        var box = $("points-expiring");
        box.textContent = "";
        if (!a.expiring.length) { box.appendChild(el("p", "muted", t("member_no_expiring"))); }
        a.expiring.forEach(function (l) {
          var row = el("div", "row expiring-lot");
          row.appendChild(el("span", "", l.expires_at === null
            ? t("member_never") : t("member_expires_on", { d: lastDay(l.expires_at) })));
          row.appendChild(el("span", "", String(l.points)));
          box.appendChild(row);
        });
        return entries(null, true);
      }).catch(function (e) { if (!e.unauthorized) { $("points-history").textContent = e.message; } });
    }
    function afterChange() {
      points();
      mallBlock(afterChange);
    }
    tierBlock();
    cardBlock();
    storedValueBlock();
    giftsBlock();
    mallBlock(afterChange);
    if ($("points-balance").getAttribute("data-loaded") === "1") { return; }
    points();
  }

  // The consultant page: the consultant with their average, the store's other guides to
  // choose from, and what is left to rate (1–5 stars and a comment).
  function consultant() {
    function average(g) {
      return g.average_milli === null ? t("rh5_no_ratings")
        : t("rh5_average", { avg: (Math.round(g.average_milli / 100) / 10).toFixed(1), n: g.ratings });
    }
    function render(v) {
      var box = $("consultant");
      box.textContent = "";
      box.appendChild(el("div", "muted", t("rh5_current")));
      if (v.consultant) {
        var row = el("div", "row");
        var name = el("span", "big", v.consultant.name);
        name.id = "consultant-name";
        name.setAttribute("data-staff", v.consultant.staff_id);
        row.appendChild(name);
        row.appendChild(el("span", "muted", average(v.consultant)));
        box.appendChild(row);
        if (v.consultant.store_name) { box.appendChild(el("div", "muted", v.consultant.store_name)); }
      } else {
        box.appendChild(el("p", "muted", t("rh5_none")));
      }
      if (v.pending) { box.appendChild(el("p", "signin", t("rh5_pending", { name: v.pending.name }))); }
      box.setAttribute("data-loaded", "1");
      var list = $("choices");
      list.textContent = "";
      if (!v.choices.length) { list.appendChild(el("p", "muted", t("rh5_no_choices"))); }
      v.choices.forEach(function (g) {
        var card = el("div", "card row choice");
        card.setAttribute("data-staff", g.staff_id);
        var left = el("span", "");
        left.appendChild(el("span", "", g.name));
        left.appendChild(document.createElement("br"));
        left.appendChild(el("span", "muted", average(g)));
        card.appendChild(left);
        var btn = el("button", "choose", t("rh5_choose"));
        btn.type = "button";
        btn.onclick = function () {
          btn.disabled = true;
          api("POST", "/public/me/consultant", { staff_id: g.staff_id }).then(function (r) {
            toast(t("rh5_chosen_" + r.outcome));
            render(r);
          }).catch(function (e) { toast(e.message); btn.disabled = false; });
        };
        card.appendChild(btn);
        list.appendChild(card);
      });
    }
    function rateForm(r) {
      var form = el("form", "card rate");
      form.setAttribute("data-kind", r.subject_kind);
      form.setAttribute("data-subject", r.subject_id);
      var head = el("div", "row");
      head.appendChild(el("span", "", r.subject_kind === "order"
        ? t("rh5_order", { no: r.title }) : t("rh5_task") + "：" + r.title));
      head.appendChild(el("span", "muted", when(Date.parse(r.at))));
      form.appendChild(head);
      if (r.staff_name) { form.appendChild(el("div", "muted", r.staff_name)); }
      var stars = el("div", "stars-input");
      for (var n = 1; n <= 5; n++) {
        var label = el("label", "");
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "score";
        input.value = String(n);
        label.appendChild(input);
        label.appendChild(document.createTextNode(n + "★"));
        stars.appendChild(label);
      }
      form.appendChild(stars);
      var comment = document.createElement("textarea");
      comment.name = "comment";
      comment.maxLength = 500;
      comment.placeholder = t("rh5_comment");
      form.appendChild(comment);
      var submit = el("button", "", t("rh5_submit"));
      submit.type = "submit";
      form.appendChild(submit);
      form.onsubmit = function (ev) {
        ev.preventDefault();
        var picked = form.querySelector("input[name=score]:checked");
        if (!picked) { toast(t("rh5_pick_score")); return; }
        submit.disabled = true;
        api("POST", "/public/me/ratings", {
          subject_kind: r.subject_kind, subject_id: r.subject_id,
          score: parseInt(picked.value, 10), comment: comment.value
        }).then(function () {
          toast(t("rh5_thanks"));
          form.parentNode.removeChild(form);
          if (!$("ratable").querySelector("form")) {
            $("ratable").appendChild(el("p", "muted", t("rh5_nothing_to_rate")));
          }
        }).catch(function (e) { toast(e.message); submit.disabled = false; });
      };
      return form;
    }
    api("GET", "/public/me/consultant").then(render)
      .catch(function (e) { if (!e.unauthorized) { $("consultant").textContent = e.message; } });
    api("GET", "/public/me/ratable").then(function (list) {
      var box = $("ratable");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", t("rh5_nothing_to_rate"))); }
      list.forEach(function (r) { box.appendChild(rateForm(r)); });
    }).catch(function (e) { if (!e.unauthorized) { $("ratable").textContent = e.message; } });
  }

  if (page === "invite") { invite(); return; }
  if (!token()) { signIn(t("need_login")); return; }
  ({ coupons: coupons, flash_sale: flashSale, group_buy: groupBuy, team: team, member: member,
    consultant: consultant })[page]();
})();
