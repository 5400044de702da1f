// Shows dose per kg (10^6 cells / kg) as the user types cells and weight.
// The server computes it again (MscAdministration.computed_dose_millions_per_kg); this is a preview.
(function () {
  "use strict";
  var cells = document.getElementById("id_cells_millions");
  var weight = document.getElementById("id_weight_kg");
  var out = document.getElementById("dose-preview");
  if (!cells || !weight || !out) { return; }
  function update() {
    var c = parseFloat(cells.value), w = parseFloat(weight.value);
    if (isFinite(c) && isFinite(w) && c > 0 && w > 0) {
      out.textContent = (Math.round((c / w) * 1000) / 1000).toString();
    } else {
      out.textContent = "enter cells and weight";
    }
  }
  cells.addEventListener("input", update);
  weight.addEventListener("input", update);
  update();
})();
