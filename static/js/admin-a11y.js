// Two gaps in the Django admin's own widgets that axe-core reports (WCAG 4.1.2), filled after
// the widgets are built (select2 on DOM ready, SelectFilter2 on load; this runs after both).
(function () {
  function labelFor(id) {
    var label = id && document.querySelector('label[for="' + id + '"]');
    if (!label) return null;
    if (!label.id) label.id = id + "_label";
    return label;
  }

  function fix() {
    // Autocomplete fields (select2): the combobox is named by its empty "selection" box only.
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = labelFor(select.id);
      var container = document.getElementById("select2-" + select.id + "-container");
      if (!label || !container) return;
      var combobox = container.closest(".select2-selection");
      if (combobox) combobox.setAttribute("aria-labelledby", label.id + " " + container.id);
      container.setAttribute("aria-labelledby", label.id);
    });
    // filter_horizontal (SelectFilter2): an aria-label on a plain <span> is not announced.
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  window.addEventListener("load", function () {
    setTimeout(fix, 0);
  });
  document.addEventListener("formset:added", function () {
    setTimeout(fix, 0);
  });
})();
