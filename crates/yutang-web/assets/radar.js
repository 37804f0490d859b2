// Tracked material pages (/h5/r/{token}): report how long the page has been visible, so the
// material's time on page is counted. Only visible time counts; the beacon is sent every 10
// seconds while visible and once when the page is hidden or closed.
(function () {
  var body = document.body;
  var token = body.getAttribute("data-token");
  var view = body.getAttribute("data-view");
  if (!token || !view) return;
  var shown = 0;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  function seconds() {
    var ms = shown + (visibleSince ? Date.now() - visibleSince : 0);
    return Math.floor(ms / 1000);
  }
  function send() {
    var data = new URLSearchParams({ view: view, seconds: String(seconds()) });
    var url = "/h5/r/" + token + "/beat";
    if (navigator.sendBeacon && navigator.sendBeacon(url, data)) return;
    fetch(url, { method: "POST", body: data, keepalive: true, credentials: "same-origin" });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (visibleSince) {
        shown += Date.now() - visibleSince;
        visibleSince = null;
      }
      send();
    } else {
      visibleSince = Date.now();
    }
  });
  setInterval(function () {
    if (visibleSince) send();
  }, 10000);
})();
