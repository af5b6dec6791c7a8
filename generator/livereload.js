// Briefing serve's live reload, injected into served pages only: one WebSocket per tab to
// the preview server; reload when this page changed, swap stylesheets in place, show build
// errors over the page, and reconnect by itself when the server comes back.
(function () {
  "use strict";
  var script = document.currentScript;
  var digest = script.getAttribute("data-digest");
  var overlay = null;
  var delay = 200;

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/__briefing__/events");
    socket.onopen = function () {
      delay = 200;
      socket.send(JSON.stringify({ path: location.pathname, digest: digest }));
    };
    socket.onmessage = function (event) {
      handle(JSON.parse(event.data));
    };
    socket.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 3000);
    };
  }

  function handle(message) {
    if (message.type === "reload") {
      location.reload();
    } else if (message.type === "css") {
      swap(message.paths, message.build);
    } else if (message.type === "error") {
      show(message);
    }
  }

  function swap(paths, build) {
    var links = document.querySelectorAll('link[rel~="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.getAttribute("href"), location.href);
      if (url.origin !== location.origin || paths.indexOf(url.pathname) < 0) {
        return;
      }
      url.searchParams.set("build", build);
      var next = link.cloneNode();
      next.href = url.href;
      next.onload = function () {
        link.remove();
      };
      link.after(next);
    });
  }

  function show(message) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "briefing-error-overlay";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
        "background:rgba(20,20,20,.94);color:#fff;font:15px/1.5 ui-monospace,monospace;";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    var title = document.createElement("h2");
    title.textContent = "The build failed; this page is from the last good build.";
    title.style.cssText = "color:#ff8a80;font:bold 18px/1.4 system-ui,sans-serif;margin:0 0 1rem";
    var text = document.createElement("pre");
    text.textContent = message.text;
    text.style.cssText = "white-space:pre-wrap;margin:0";
    overlay.appendChild(title);
    overlay.appendChild(text);
  }

  connect();
})();
