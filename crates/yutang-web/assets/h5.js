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

  var qs = new URLSearchParams(location.search);
  if (qs.get("token")) {
    localStorage.setItem(KEY, qs.get("token"));
  }
  function token() { return localStorage.getItem(KEY); }
  function $(s) { return document.getElementById(s); }
  function yuan(fen) { return (fen / 100).toFixed(2); }
  function when(ms) {
    return new Date(ms).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }
  function toast(text) {
    var m = $("msg");
    m.textContent = text;
    m.style.display = "block";
    clearTimeout(toast.t);
    toast.t = setTimeout(function () { m.style.display = "none"; }, 2500);
  }
  var MESSAGES = {
    out_of_stock: "已抢光", limit_reached: "已达领取上限", promotion_not_started: "活动尚未开始",
    promotion_ended: "活动已结束", promotion_inactive: "活动已下架", not_in_audience: "该活动仅限指定会员",
    group_full: "该团已满", group_expired: "该团已过期", already_in_group: "你已在团中",
    customer_token_expired: "登录已过期，请重新进入", invalid_customer_token: "请重新登录",
    customer_token_required: "请先登录", request_in_progress: "请求处理中，请稍候"
  };
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
          if (r.status === 401) { localStorage.removeItem(KEY); showLogin(); }
          var e = new Error(MESSAGES[code] || (j.error && j.error.message) || "请求失败");
          e.code = code;
          throw e;
        }
        return j;
      });
    });
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
          if (!x[0]) { toast(x[1].error ? x[1].error.message : "登录失败"); return; }
          localStorage.setItem(KEY, x[1].token);
          location.reload();
        });
    };
  }

  function benefit(b) {
    if (!b) { return ""; }
    switch (b.kind) {
      case "amount_off": return (b.threshold_fen ? "满" + yuan(b.threshold_fen) + "减" : "立减") + yuan(b.off_fen);
      case "discount": return (b.rate_permille / 100) + "折，最多减" + yuan(b.cap_fen);
      case "free_shipping": return "免运费" + (b.threshold_fen ? "（满" + yuan(b.threshold_fen) + "）" : "");
      case "exchange": return "兑换：" + b.item_name;
      default: return "";
    }
  }
  var STATE = { claimed: "可使用", used: "已使用", expired: "已过期", revoked: "已作废" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function coupons() {
    api("GET", "/public/coupons").then(function (list) {
      var box = $("claimable");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", "暂无可领取的优惠券")); }
      list.forEach(function (t) {
        var card = el("div", "card coupon-template");
        card.setAttribute("data-template", t.id);
        var row = el("div", "row");
        var left = el("div");
        left.appendChild(el("div", null, t.name));
        left.appendChild(el("div", "muted", t.spec.steps.map(benefit).join(" / ") + " · 剩余 " + t.remaining));
        var btn = el("button", "claim", "领取");
        btn.type = "button";
        btn.onclick = function () {
          btn.disabled = true;
          api("POST", "/public/coupons/" + t.id + "/claim").then(function () {
            toast("领取成功");
            coupons();
          }).catch(function (e) { toast(e.message); btn.disabled = false; });
        };
        row.appendChild(left);
        row.appendChild(btn);
        card.appendChild(row);
        box.appendChild(card);
      });
    }).catch(function (e) { $("claimable").textContent = e.message; });
    api("GET", "/public/coupons/mine").then(function (list) {
      var box = $("mine");
      box.textContent = "";
      if (!list.length) { box.appendChild(el("p", "muted", "还没有优惠券")); }
      list.forEach(function (c) {
        var card = el("div", "card my-coupon state-" + c.state);
        card.setAttribute("data-coupon", c.id);
        var row = el("div", "row");
        var left = el("div");
        left.appendChild(el("div", null, c.name + " · " + benefit(c.benefit)));
        left.appendChild(el("div", "muted", "有效期至 " + when(c.valid_until)));
        row.appendChild(left);
        row.appendChild(el("span", "tag coupon-state", STATE[c.state] || c.state));
        card.appendChild(row);
        box.appendChild(card);
      });
    }).catch(function () {});
  }

  function flashSale() {
    var w = $("window");
    w.textContent = when(+w.getAttribute("data-starts")) + " 至 " + when(+w.getAttribute("data-ends"));
    function refresh() {
      api("GET", "/public/flash-sales/" + id).then(function (s) { $("remaining").textContent = s.remaining; });
    }
    refresh();
    $("claim").onclick = function () {
      var b = $("claim");
      b.disabled = true;
      api("POST", "/public/flash-sales/" + id + "/claim").then(function (c) {
        $("result").textContent = "抢购成功！请在 " + when(c.hold_until) + " 前完成支付";
        refresh();
      }).catch(function (e) { toast(e.message); b.disabled = false; refresh(); });
    };
  }

  function groupBuy() {
    api("GET", "/public/group-buys/" + id).then(function (g) { $("remaining").textContent = g.remaining; });
    $("open").onclick = function () {
      $("open").disabled = true;
      api("POST", "/public/group-buys/" + id + "/open").then(function (t) {
        location.href = "/h5/teams/" + t.team_id;
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
      return api("GET", "/public/group-buy-teams/" + id).then(function (t) {
        deadline = t.deadline;
        state = t.state;
        var text = t.state === "open" ? "还差 " + t.missing + " 人成团"
          : t.state === "filled" ? "拼团成功" : "拼团失败，已自动退款";
        $("team-state").textContent = text;
        $("team-state").setAttribute("data-state", t.state);
        $("remaining").textContent = t.remaining_stock;
        var av = $("avatars");
        av.textContent = "";
        for (var i = 0; i < t.size; i++) {
          var m = t.member_list[i];
          av.appendChild(el("span", m ? "" : "empty", m ? (m.is_leader ? "团长" : "团员") : "?"));
        }
        var me = token() ? token().split(".")[0].replace("yct_", "") : "";
        var mine = t.member_list.some(function (m) { return String(m.customer_id) === me; });
        $("join").disabled = t.state !== "open" || mine;
        $("join").textContent = mine ? "已参团" : "参与拼团";
        if (mine && t.state === "open") {
          $("share").textContent = "分享链接给好友：" + location.origin + "/h5/teams/" + id + "?inviter=" + me;
        } else {
          $("share").textContent = "";
        }
        tick();
      });
    }
    load().catch(function (e) { $("team-state").textContent = e.message; });
    setInterval(tick, 1000);
    setInterval(function () { load().catch(function () {}); }, 5000);
    $("join").onclick = function () {
      $("join").disabled = true;
      api("POST", "/public/group-buy-teams/" + id + "/join", inviter ? { inviter_id: inviter } : {})
        .then(function (r) { toast(r.state === "filled" ? "拼团成功" : "参团成功"); return load(); })
        .catch(function (e) { toast(e.message); load(); });
    };
  }

  if (!token()) { showLogin(); return; }
  ({ coupons: coupons, flash_sale: flashSale, group_buy: groupBuy, team: team })[page]();
})();
