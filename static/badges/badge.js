/*
 * CONAC website badge: the logic every badge shares (one content-hashed static file).
 *
 * Each badge's own script (/js/PP/CCC/DDDD/NNNNNNNN/CA....js) is data: it queues its
 * badge on window.__conacBadge.q, with its code and its own script element, and loads
 * this file once. This file finds the badge's place -- the #_ideConac span before its
 * script, another free #_ideConac, or a new span after the script -- and fills it with
 * DOM APIs only: no document.write, eval, innerHTML, cookies, storage or requests of
 * its own, so it runs under a Content Security Policy that allows only the badge host.
 * Nothing is ever written to the console. ASCII only: pages in GBK load it too.
 *
 * The page's host must be one of the badge's names (lower-case A-labels, as
 * location.hostname gives them), www. plus one, or any name below one at a dot
 * boundary -- never a bare string suffix; a home page address with a path limits the
 * badge to pages under it. Otherwise, or once the badge is revoked, the error variant
 * is drawn.
 */
(function (w, d) {
  "use strict";

  var api = (w.__conacBadge = w.__conacBadge || {});
  if (api.run) {
    api.run(); // loaded twice: the first copy does the work
    return;
  }
  var used = [];
  var waiting = false;

  function asciiHost(host) {
    host = String(host || "").toLowerCase();
    if (/[^\x00-\x7f]/.test(host)) {
      try {
        host = new URL("http://" + host + "/").hostname; // Unicode labels to A-labels
      } catch (err) {
        return "";
      }
    }
    return host.replace(/\.+$/, "");
  }

  function hostMatches(host, names) {
    host = asciiHost(host);
    if (!host) {
      return false;
    }
    for (var i = 0; i < names.length; i++) {
      var name = names[i];
      if (host === name) {
        return true;
      }
      var start = host.length - name.length;
      if (start > 0 && host.charAt(start - 1) === "." && host.slice(start) === name) {
        return true; // www.name, or any name below it
      }
    }
    return false;
  }

  function pathMatches(path, limit) {
    if (!limit) {
      return true;
    }
    path = path || "/";
    return path === limit || path.indexOf(limit + "/") === 0;
  }

  function onRedPage(location, pages) {
    // A red-page badge on the unit's red page on the main site: that host, under that path.
    var host = asciiHost(location.hostname);
    for (var i = 0; pages && i < pages.length; i++) {
      if (host === pages[i][0] && pathMatches(location.pathname, pages[i][1])) {
        return true;
      }
    }
    return false;
  }

  function scriptOf(entry) {
    if (entry.s && entry.s.parentNode) {
      return entry.s;
    }
    // document.currentScript was null: find the script by the code in its address.
    var tail = "/" + entry.code + ".js";
    var scripts = d.getElementsByTagName("script");
    for (var i = 0; i < scripts.length; i++) {
      var src = String(scripts[i].src || "").split(/[?#]/)[0];
      if (src.slice(-tail.length) === tail) {
        return scripts[i];
      }
    }
    return null;
  }

  function isFree(element) {
    return !!element && element.id === "_ideConac" && used.indexOf(element) < 0;
  }

  function freeSpan(script) {
    var before = script && script.previousElementSibling;
    if (isFree(before)) {
      return before; // the snippet's own span
    }
    var spans = d.querySelectorAll('[id="_ideConac"]');
    for (var i = 0; i < spans.length; i++) {
      if (isFree(spans[i])) {
        return spans[i];
      }
    }
    return null;
  }

  function place(entry) {
    var script = scriptOf(entry);
    var span = freeSpan(script);
    if (!span) {
      if (d.readyState === "loading") {
        return null; // the span may still come: try again once the page is parsed
      }
      span = d.createElement("span");
      if (!d.getElementById("_ideConac")) {
        span.id = "_ideConac";
      }
      var parent = script && script.parentNode;
      if (parent && d.body && d.body.contains(parent)) {
        parent.insertBefore(span, script.nextSibling);
      } else if (d.body) {
        d.body.appendChild(span); // a script in <head>: the badge goes at the end of the page
      } else {
        return null;
      }
    }
    used.push(span);
    return span;
  }

  function draw(entry, span) {
    var location = w.location;
    var valid =
      !entry.revoked &&
      ((hostMatches(location.hostname, entry.hosts) && pathMatches(location.pathname, entry.path)) ||
        onRedPage(location, entry.pages));
    var link = d.createElement("a");
    link.href = entry.certificate;
    link.target = "_blank";
    link.rel = "noopener";
    // The certificate page tells its visitor when the badge is shown on a site it does not belong to.
    link.referrerPolicy = "origin";
    var image = d.createElement("img");
    image.src = valid ? entry.image : entry.errorImage;
    image.width = 80;
    image.height = 80;
    image.alt = valid ? entry.alt : entry.errorAlt;
    image.title = image.alt;
    image.style.border = "0";
    image.style.verticalAlign = "middle";
    link.appendChild(image);
    while (span.firstChild) {
      span.removeChild(span.firstChild);
    }
    span.appendChild(link);
  }

  function run() {
    var queue = (api.q = api.q || []);
    var later = [];
    while (queue.length) {
      var entry = queue.shift();
      try {
        var span = place(entry);
        if (span) {
          draw(entry, span);
        } else {
          later.push(entry);
        }
      } catch (err) {
        // Never disturb the page that carries the badge.
      }
    }
    for (var i = 0; i < later.length; i++) {
      queue.push(later[i]);
    }
    if (later.length && !waiting) {
      waiting = true;
      d.addEventListener("DOMContentLoaded", function () {
        waiting = false;
        run();
      });
    }
  }

  api.run = run;
  run();
})(window, document);
