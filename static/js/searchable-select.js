// A filter box above each long select marked data-searchable-select (the country lists): typing
// part of a name or a code shows only the matching options and picks the first one. Without
// script the select still works, and a native select finds an option as its first letters are typed.
(function () {
  "use strict";
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  function labelOf(select) {
    var label = select.id ? document.querySelector("label[for='" + select.id + "']") : null;
    return label ? label.textContent.replace("*", "").trim() : "the list";
  }
  function enhance(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Type to filter the list";
    box.autocomplete = "off";
    box.setAttribute("aria-label", "Filter: " + labelOf(select));
    if (select.id) { box.setAttribute("aria-controls", select.id); }
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var query = plain(box.value), first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var shown = !query || option.value === "" ||
          plain(option.text).indexOf(query) !== -1 || option.value.toLowerCase() === query;
        option.hidden = !shown;
        if (shown && option.value !== "" && first === null) { first = option; }
      });
      var current = select.options[select.selectedIndex];
      if (query && first !== null && (!current || current.hidden || current.value === "")) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // choose, do not submit the form
        event.preventDefault();
        select.focus();
      }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("select[data-searchable-select]"), enhance);
})();
