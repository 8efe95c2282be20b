// check.js — appended to a copy of report.html by tests/cli/report_html.sh. When the page has
// loaded, it measures every embedded plot and reads the tables back, and writes the result as
// JSON into <pre id="ts-check"> for the test to find in Chromium's --dump-dom output.
window.addEventListener("load", function () {
  var out = { plots: [], tables: {}, counts: {}, resources: [] };
  document.querySelectorAll("img.plot").forEach(function (img) {
    var r = img.getBoundingClientRect();
    out.plots.push({ name: img.dataset.name, width: r.width, height: r.height,
                     natural: img.naturalWidth, complete: img.complete });
  });
  document.querySelectorAll("table[id]").forEach(function (t) {
    out.tables[t.id] = Array.prototype.map.call(t.querySelectorAll("tbody tr"), function (tr) {
      var row = {};
      tr.querySelectorAll("[data-k]").forEach(function (td) { row[td.dataset.k] = td.textContent; });
      return row;
    });
  });
  document.querySelectorAll("#counts [data-k]").forEach(function (s) {
    out.counts[s.dataset.k] = s.textContent;
  });
  performance.getEntriesByType("resource").forEach(function (e) { out.resources.push(e.name); });
  var pre = document.createElement("pre");
  pre.id = "ts-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
