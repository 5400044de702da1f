// Shows dose per kg (10^6 cells / kg) as the user types cells and weight.
// The server computes it again (MscAdministration.computed_dose_millions_per_kg, to 0.001) and
// writes it as cases.models.msc.dose_per_kg_text does: one decimal ("2.0"), or two significant
// digits when one decimal would show 0.0. This preview follows the same steps.
(function () {
  "use strict";
  var cells = document.getElementById("id_cells_millions");
  var weight = document.getElementById("id_weight_kg");
  var out = document.getElementById("dose-preview");
  if (!cells || !weight || !out) { return; }
  function number(input) {
    var text = input.value.trim();
    return text === "" ? NaN : Number(text);
  }
  function doseText(thousandths) {
    var tenths = Math.floor((thousandths + 50) / 100); // half up, in whole numbers
    if (tenths === 0 && thousandths > 0) {
      return (thousandths / 1000).toPrecision(2);
    }
    return (tenths / 10).toFixed(1);
  }
  function update() {
    var c = number(cells), w = number(weight);
    if (isFinite(c) && isFinite(w) && c > 0 && w > 0) {
      out.textContent = doseText(Math.round((c / w) * 1000));
    } else {
      out.textContent = "enter cells and weight";
    }
  }
  ["input", "change"].forEach(function (name) {
    cells.addEventListener(name, update);
    weight.addEventListener(name, update);
  });
  update();
})();
