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

// Irreversible actions ask first (认款, 审核通过, 删除域名, 确认收费, 重置密码, 撤销, 确认退费…).
// A submit button (or its form) with data-confirm gets a keyboard-operable <dialog> with the
// question; 确定 sends the form with confirmed=1, 取消 / Esc sends nothing and gives the focus
// back. {n} counts the ticked .row-check boxes, {field} is a field's value, {field:money} a
// sum of money as 1,200.00; data-confirm-one is the question when exactly one row is ticked
// ({name} is that row). data-require-ticked refuses at once when nothing is ticked, and
// data-dialog opens a <dialog> of the page (one that holds more fields, as 删除域名's reason).
// Without JavaScript the server asks the same question as a page of its own.
(function () {
  var dialog = null;
  var pending = null;

  function money(value) {
    var number = Number(String(value).replace(/[,，\s元]/g, ""));
    if (!isFinite(number) || String(value).trim() === "") return String(value);
    return number.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function ticked(form) {
    return Array.prototype.slice.call(form.querySelectorAll(".row-check:checked"));
  }

  function rowName(box) {
    return box.dataset.name || (box.getAttribute("aria-label") || "").replace(/^选择\s*/, "");
  }

  function fill(text, form) {
    var boxes = ticked(form);
    return text.replace(/\{(\w+)(?::(money))?\}/g, function (whole, name, format) {
      if (name === "n") return String(boxes.length);
      if (name === "name") return boxes.length ? rowName(boxes[0]) : "";
      var field = form.elements[name];
      if (!field || field.value === undefined) return whole;
      return format === "money" ? money(field.value) : field.value.trim();
    });
  }

  function say(form, text) {
    // The refusal is said where the form starts, as an alert (read out at once), and focused.
    var box = form.querySelector("[data-confirm-alert]");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert-danger";
      box.setAttribute("role", "alert");
      box.tabIndex = -1;
      box.dataset.confirmAlert = "1";
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = text;
    box.focus();
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-question");
    dialog.setAttribute("aria-describedby", "confirm-dialog-note");
    dialog.innerHTML =
      '<h2 class="h5" id="confirm-dialog-question"></h2>' +
      '<p class="small text-muted" id="confirm-dialog-note">此操作不能撤回，请核对后点击“确定”。</p>' +
      '<div class="d-flex gap-2 justify-content-end">' +
      '<button type="button" class="btn btn-danger" data-answer="yes">确定</button>' +
      '<button type="button" class="btn btn-outline-secondary" data-answer="no">取消</button></div>';
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function (event) {
      var answer = event.target.closest("[data-answer]");
      if (!answer) return;
      var chosen = pending;
      pending = null;
      dialog.close();
      if (answer.dataset.answer === "yes" && chosen) send(chosen.form, chosen.submitter);
      else if (chosen && chosen.submitter) chosen.submitter.focus();
    });
    dialog.addEventListener("cancel", function () {
      var chosen = pending;
      pending = null;
      if (chosen && chosen.submitter) setTimeout(function () { chosen.submitter.focus(); }, 0);
    });
  }

  function send(form, submitter) {
    var yes = document.createElement("input");
    yes.type = "hidden"; yes.name = "confirmed"; yes.value = "1";
    yes.dataset.confirmed = "1";
    form.appendChild(yes);
    if (submitter && submitter.name && form.hasAttribute("hx-post")) {
      // htmx sends the clicked button's value only on a real click: carry it.
      var carried = document.createElement("input");
      carried.type = "hidden"; carried.name = submitter.name; carried.value = submitter.value;
      carried.dataset.confirmed = "1";
      form.appendChild(carried);
    }
    form.requestSubmit(submitter || undefined);
    if (form.hasAttribute("hx-post")) {
      // The panel is replaced by the answer; if it is not, the next submission asks again.
      setTimeout(function () {
        form.querySelectorAll("input[data-confirmed]").forEach(function (i) { i.remove(); });
      }, 0);
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (form.querySelector("input[data-confirmed]") || (submitter && submitter.name === "confirmed")) return;
    var source = submitter && (submitter.dataset.confirm || submitter.dataset.dialog || submitter.dataset.requireTicked)
      ? submitter : form;
    var question = source.dataset.confirm;
    var own = source.dataset.dialog && document.querySelector(source.dataset.dialog);
    var required = source.dataset.requireTicked;
    if (!question && !own && !required) return;
    var count = ticked(form).length;
    event.preventDefault();
    event.stopImmediatePropagation(); // before htmx, which listens on the form itself
    if (required && count === 0) {
      say(form, required);
      return;
    }
    if (own) {
      own.querySelectorAll("[data-confirm-text]").forEach(function (el) {
        el.textContent = fill(el.dataset.confirmText, form);
      });
      own.showModal();
      var first = own.querySelector("textarea, input:not([type=hidden]), select");
      if (first) first.focus();
      return;
    }
    if (count === 1 && source.dataset.confirmOne) question = source.dataset.confirmOne;
    if (!dialog) build();
    dialog.querySelector("#confirm-dialog-question").textContent = fill(question, form);
    pending = { form: form, submitter: submitter };
    dialog.showModal();
    dialog.querySelector("[data-answer=no]").focus();
  }, true);

  // 取消 in a page's own dialog.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("dialog [data-close]");
    if (close) close.closest("dialog").close();
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("input[data-confirmed]").forEach(function (i) { i.remove(); });
  });
})();

// The 详细信息 panel (用户管理——申报单位管理/缴费): the chosen row stays marked; after the panel
// opens or an action in it answers, the focus goes to the result (or the panel's heading) and
// the live region beside the panel reads it out.
(function () {
  function announce(target) {
    var spot = target.querySelector("[data-autofocus]") || target.querySelector(".alert") ||
      target.querySelector("h2, h1");
    if (!spot) return;
    if (!spot.hasAttribute("tabindex")) spot.tabIndex = -1;
    spot.focus();
    var live = document.getElementById(target.dataset.live || "");
    if (live) {
      var heading = target.querySelector("h2");
      var text = spot.textContent.replace(/\s+/g, " ").trim();
      if (heading && heading !== spot) text = heading.textContent.replace(/\s+/g, " ").trim() + "：" + text;
      live.textContent = "";
      setTimeout(function () { live.textContent = text; }, 50);
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.row-link");
    if (!link) return;
    var row = link.closest("tr");
    var table = row && row.closest("table");
    if (!table) return;
    table.querySelectorAll("tr.table-active").forEach(function (r) {
      r.classList.remove("table-active");
      r.removeAttribute("aria-current");
    });
    row.classList.add("table-active");
    row.setAttribute("aria-current", "true");
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-live")) announce(target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    // After an action the page opens on its result: a step's question, the panel's answer, or
    // the message the action left (unless the page already put the focus somewhere itself).
    var spot = document.querySelector("[data-autofocus]");
    if (!spot && document.activeElement === document.body) spot = document.querySelector("main > .alert[role=alert]");
    if (spot) {
      if (!spot.hasAttribute("tabindex")) spot.tabIndex = -1;
      spot.focus();
    }
  });
})();
