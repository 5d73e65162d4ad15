// A submit button is disabled once clicked, so a double click sends one request.
(function () {
  function guard(form, submitter) {
    if (form.dataset.submitting === "1") return false;
    form.dataset.submitting = "1";
    var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    if (submitter && submitter.name) {
      // Keep the clicked button's name/value in the request although it is now disabled.
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
      hidden.dataset.submitter = "1";
      form.appendChild(hidden);
    }
    return true;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return; // htmx handles its own
    if (!guard(form, event.submitter)) event.preventDefault();
  });
  // A page restored by the Back button comes from the cache as it was left: buttons disabled.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("input[data-submitter]").forEach(function (i) { i.remove(); });
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (el.tagName === "FORM") {
      el.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (el.tagName === "FORM" && document.body.contains(el)) {
      el.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    }
  });
  // Clicking a row opens its detail panel.
  document.addEventListener("click", function (event) {
    var row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, label")) return;
    var link = row.querySelector("a.row-link");
    if (link) link.click();
  });
})();

// A dialog the server asks for (the 域名解析 www question and its result) opens on load.
(function () {
  if (!window.bootstrap) return;
  document.querySelectorAll(".modal[data-autoshow]").forEach(function (el) {
    new bootstrap.Modal(el).show();
  });
})();

// 复制代码: copy the badge snippet; say so in the live region beside the button.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.querySelector(button.dataset.copy);
  var status = button.parentElement.querySelector("[data-copy-status]");
  function done(ok) { if (status) status.textContent = ok ? "已复制" : "请按 Ctrl+C 复制"; }
  source.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(function () { done(true); }, function () { done(false); });
  } else {
    done(document.execCommand && document.execCommand("copy"));
  }
});

// Review queues: 全选 ticks every row; a 常用不通过原因 fills the 审核意见, to be edited.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.id === "check-all") {
    document.querySelectorAll(".row-check").forEach(function (c) { c.checked = target.checked; });
  } else if (target.dataset && target.dataset.fills && target.value) {
    var field = document.querySelector(target.dataset.fills);
    if (field) field.value = target.value;
  }
});
