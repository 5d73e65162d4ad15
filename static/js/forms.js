/* Forms, on every page (included once from base.html):
 *
 * 1. The error summary (templates/partials/form_errors.html) takes focus when a form comes back
 *    with errors: on page load (a server re-render after POST; the summary's autofocus does the same
 *    without this script) and after an htmx swap that re-renders a form in place (详细信息 panel).
 *    Its links move focus to the field, not only scroll to it.
 * 2. Every <input data-datepicker> (conac.forms.DateInput, a plain text box) gets the vendored
 *    vanillajs-datepicker in Chinese. Typing stays the way in: 2026-12-31 and 2026年12月31日 are
 *    read the same, whatever the browser's locale; text the picker cannot read is left exactly as
 *    typed for the server to explain at the field, never silently wiped.
 */
(function () {
  "use strict";

  // base.html passes the picker's asset URLs (hashed by the static storage) on this script tag.
  var tag = document.currentScript || document.querySelector("script[data-datepicker-js]");
  var assets = {
    css: tag.getAttribute("data-datepicker-css"),
    js: tag.getAttribute("data-datepicker-js"),
    locale: tag.getAttribute("data-datepicker-locale"),
  };

  // --- error summary -----------------------------------------------------------------------

  function focusSummary(root) {
    var scope = root && root.querySelector ? root : document;
    var summary = scope.matches && scope.matches("[data-error-summary]") ? scope : scope.querySelector("[data-error-summary]");
    if (!summary) return false;
    summary.focus({ preventScroll: false });
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });

  // --- dates ---------------------------------------------------------------------------------

  var PATTERNS = [
    /^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$/,
    /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$/,
    /^(\d{4})(\d{2})(\d{2})$/,
  ];

  // The same reading as conac.formats.parse_date; undefined when it is not a real date.
  function parseTyped(text) {
    var typed = String(text || "").normalize("NFKC").trim();
    for (var i = 0; i < PATTERNS.length; i++) {
      var m = PATTERNS[i].exec(typed);
      if (!m) continue;
      var y = +m[1], mo = +m[2], d = +m[3];
      var date = new Date(y, mo - 1, d);
      if (date.getFullYear() === y && date.getMonth() === mo - 1 && date.getDate() === d) return date;
      return undefined;
    }
    return undefined;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function display(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  var loading = null;

  function load(src, tag) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      if (tag === "link") {
        el.rel = "stylesheet";
        el.href = src;
      } else {
        el.src = src;
      }
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  function loadPicker() {
    if (!loading) {
      loading = Promise.all([
        load(assets.css, "link"),
        load(assets.js, "script").then(function () {
          return load(assets.locale, "script");
        }),
      ]);
    }
    return loading;
  }

  function attach(input) {
    if (input.dataset.datepickerReady) return;
    input.dataset.datepickerReady = "1";
    var typed = input.value; // the constructor, too, rewrites what it cannot read
    var picker = new window.Datepicker(input, {
      language: "zh-CN",
      format: {
        toValue: function (text) {
          return parseTyped(text) || NaN;
        },
        toDisplay: display,
      },
      autohide: true,
      buttonClass: "btn",
      showOnFocus: false, // Tab passes through without a popup; a click or Esc opens it
      todayButton: true,
      todayButtonMode: 1,
      clearButton: true,
      todayHighlight: true,
      weekStart: 1,
    });
    // The library rewrites the box on blur with the last date it could read, or empties it:
    // a typo would vanish and the filter would run without it. Keep unreadable text as typed.
    var update = picker.update.bind(picker);
    picker.update = function (options) {
      if (input.value.trim() && !parseTyped(input.value)) return;
      update(options);
    };
    var refresh = picker.refresh.bind(picker);
    picker.refresh = function (target, forceRender) {
      if ((target === "input" || target === undefined) && input.value.trim() && !parseTyped(input.value)) {
        return target === undefined ? refresh("picker", forceRender) : picker;
      }
      return refresh(target, forceRender);
    };
    if (typed && !parseTyped(typed)) input.value = typed;
  }

  function initDates(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var inputs = scope.querySelectorAll("input[data-datepicker]");
    if (!inputs.length) return;
    loadPicker()
      .then(function () {
        inputs.forEach(attach);
      })
      .catch(function () {
        /* no picker: the text box still takes a typed date */
      });
  }

  // --- wiring --------------------------------------------------------------------------------

  function init() {
    focusSummary(document);
    initDates(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }

  // afterSettle comes after htmx's own autofocus handling and after any afterSwap handler that
  // moves focus to a panel heading: a form that came back with errors wins.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.elt;
    if (!target || !target.querySelector) return;
    focusSummary(target);
    initDates(target);
  });

  window.conacForms = { parseDate: parseTyped, formatDate: display };
})();
