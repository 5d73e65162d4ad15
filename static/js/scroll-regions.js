// On a narrow screen a wide table scrolls inside its .table-responsive box instead of the page
// (conac.css). A keyboard user must be able to reach such a box to scroll it (WCAG 2.1.1): while it
// overflows it is a Tab stop, a named region; when it fits again it is neither, so a desktop
// screen gets no extra Tab stops. Boxes that arrive later (htmx swaps) are watched too.
(function () {
  if (!("ResizeObserver" in window)) return;

  function update(box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      var caption = box.querySelector("caption");
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (caption ? caption.textContent.trim() + "，" : "") + "表格可左右滚动");
      box.dataset.scrollStop = "1";
    } else if (!scrolls && box.dataset.scrollStop) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      delete box.dataset.scrollStop;
    }
  }

  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      update(entry.target.closest(".table-responsive") || entry.target);
    });
  });

  function watch(root) {
    root.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.dataset.scrollWatched) return;
      box.dataset.scrollWatched = "1";
      observer.observe(box);
      if (box.firstElementChild) observer.observe(box.firstElementChild);
      update(box);
    });
  }

  watch(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    watch(event.target);
  });
})();
