// Briefing serve's live reload, injected into served pages only: one WebSocket per tab to
// the preview server; when this page changed, fetch it and swap the new document in (or
// reload, for a page with scripts of its own); swap stylesheets in place; show build
// errors over the page; reconnect by itself when the server comes back.
(function () {
  "use strict";
  var script = document.currentScript;
  var digest = script.getAttribute("data-digest");
  var build = Number(script.getAttribute("data-build")) || 0; // the build this page's stylesheets came from
  var restyle = []; // stylesheets that changed with the page: swapped when its new version is swapped in
  var leaving = []; // stylesheet links being replaced, removed once their successor has loaded
  var overlay = null;
  var delay = 200;
  var current = null; // the open socket, told of the page's new digest after a swap
  var asked = 0; // refreshes started: only the last one's answer is shown
  // What a swap replaces in <head>: the page's description. Anything else there (stylesheets,
  // scripts, icons, <base>, <style>) is kept, so it must be the same in the new document.
  var DESCRIPTION = "title, meta:not([http-equiv]), link[rel~='canonical'], link[rel~='alternate'], link[rel~='prev'], link[rel~='next'], script[type='application/ld+json']";

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/__briefing__/events");
    socket.onopen = function () {
      delay = 200;
      current = socket;
      hello();
    };
    socket.onmessage = function (event) {
      handle(JSON.parse(event.data));
    };
    socket.onclose = function () {
      current = null;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 3000);
    };
  }

  function hello() {
    if (current && current.readyState === WebSocket.OPEN) {
      current.send(JSON.stringify({ path: location.pathname, digest: digest, build: build }));
    }
  }

  function handle(message) {
    if (message.type === "reload") {
      (message.css || []).forEach(function (path) {
        if (restyle.indexOf(path) < 0) {
          restyle.push(path);
        }
      });
      refresh();
    } else if (message.type === "css") {
      swap(message.paths, message.build);
      build = message.build;
    } else if (message.type === "error") {
      show(message);
    }
  }

  // Show the page's new version. A page without scripts of its own is fetched and its new
  // document swapped in: no navigation, the scroll position kept, and none of a reload's
  // cost (the stylesheet, this script and the socket stay). A page with scripts reloads,
  // since a swapped-in document would not run them; so does any page the swap cannot take.
  function refresh() {
    var at = location.href;
    var mine = ++asked;
    fetch(at, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        if (mine !== asked) {
          return; // a later notice's fetch shows the page
        }
        var next = new DOMParser().parseFromString(html, "text/html");
        var tag = ours(next);
        if (location.href !== at || !tag || scripted(document) || scripted(next) || kept(document) !== kept(next)) {
          location.reload();
          return;
        }
        replace(next);
        digest = tag.getAttribute("data-digest");
        build = Number(tag.getAttribute("data-build")) || build;
        swap(restyle, build); // the head, and so its stylesheets, stayed
        restyle = [];
        hello();
      })
      .catch(function () {
        location.reload();
      });
  }

  function ours(doc) {
    return Array.prototype.find.call(doc.querySelectorAll("script[data-digest]"), function (el) {
      return el.getAttribute("src") === script.getAttribute("src");
    });
  }

  // Whether a document has a script that runs (other than this one), or a <noscript>.
  function scripted(doc) {
    var live = ours(doc);
    return Array.prototype.some.call(doc.querySelectorAll("script, noscript"), function (el) {
      if (el === live) {
        return false;
      }
      var type = (el.getAttribute("type") || "").trim().toLowerCase();
      return el.tagName === "NOSCRIPT" || !/^application\/(ld\+)?json$/.test(type);
    });
  }

  // What <head> loads besides its description, spelled the same way for both documents
  // (a stylesheet swapped in place carries ?build=N; the one it replaces, still loading, is left out).
  function kept(doc) {
    return Array.prototype.filter
      .call(doc.head.children, function (el) {
        return !el.matches(DESCRIPTION) && leaving.indexOf(el) < 0;
      })
      .map(function (el) {
        if (el.tagName === "LINK" && el.hasAttribute("href")) {
          var url = new URL(el.getAttribute("href"), location.href);
          url.searchParams.delete("build");
          return "link " + el.rel + " " + (el.media || "") + " " + url.href;
        }
        return el.outerHTML;
      })
      .join("\n");
  }

  function replace(next) {
    var x = window.scrollX;
    var y = window.scrollY;
    var root = document.documentElement;
    Array.prototype.slice.call(root.attributes).forEach(function (a) {
      root.removeAttribute(a.name);
    });
    Array.prototype.forEach.call(next.documentElement.attributes, function (a) {
      root.setAttribute(a.name, a.value);
    });
    Array.prototype.slice.call(document.head.querySelectorAll(DESCRIPTION)).forEach(function (el) {
      el.remove();
    });
    var description = Array.prototype.slice.call(next.head.querySelectorAll(DESCRIPTION));
    document.head.prepend.apply(document.head, description.map(function (el) {
      return document.adoptNode(el);
    }));
    document.body.replaceWith(document.adoptNode(next.body));
    overlay = null; // it was in the old body
    window.scrollTo(x, y);
  }

  // Load each of these stylesheets again beside its link, then remove the old link (and any
  // link it was itself replacing), so the page is never unstyled and never keeps two.
  function swap(paths, build) {
    var links = document.querySelectorAll('link[rel~="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.getAttribute("href"), location.href);
      if (leaving.indexOf(link) >= 0 || url.origin !== location.origin || paths.indexOf(url.pathname) < 0) {
        return;
      }
      url.searchParams.set("build", build);
      var next = link.cloneNode();
      next.href = url.href;
      next.replacing = link;
      leaving.push(link);
      next.onload = function () {
        for (var old = link; old; old = old.replacing) {
          forget(old);
          old.remove();
        }
        next.replacing = null;
      };
      next.onerror = function () {
        forget(link);
        next.remove();
      };
      link.after(next);
    });
  }

  function forget(link) {
    var at = leaving.indexOf(link);
    if (at >= 0) {
      leaving.splice(at, 1);
    }
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
